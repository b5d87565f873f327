import VirtAPI
import VirtError

extension PodWiring {
    /// A VM interface bound with `bridge`: the guest sits on the pod interface's own network, with the pod
    /// interface's MAC and the address its IPAM gave (handed to the guest by DHCP), and the pod interface
    /// gives both up.
    public struct Bridge: Sendable, Equatable {
        /// How the pod interface and the tap are joined.
        public enum Joint: Sendable, Equatable {
            /// An in-pod Linux bridge `k6t-<pod interface>` with both as ports.
            case bridge
            /// A tc `mirred` redirect each way between the two: for macvlan and ipvlan interfaces, which
            /// the kernel does not let into a bridge. A macvlan delivers only frames for its own MAC, so
            /// the pod interface keeps the MAC the guest has.
            case mirror
            /// A mirror for an ipvlan interface: ipvlan delivers unicast by the addresses on the interface
            /// (and shares its parent's MAC), so the pod interface keeps its address as well; the ingress
            /// redirect takes every frame before the pod's own stack sees it.
            case mirrorKeepingAddress
        }

        /// The guest's address on the network, from the pod interface's ADD result.
        public struct Address: Sendable, Equatable {
            public var address: IPv4Address
            public var prefixLength: Int
            public var router: IPv4Address?
            public var dnsServers: [IPv4Address]

            public init(address: IPv4Address, prefixLength: Int, router: IPv4Address? = nil, dnsServers: [IPv4Address] = []) {
                self.address = address
                self.prefixLength = prefixLength
                self.router = router
                self.dnsServers = dnsServers
            }
        }

        /// The VM interface's name (`spec.domain.devices.interfaces[].name`).
        public var interfaceName: String
        /// The pod interface (eth0, net1 …).
        public var podInterface: String
        /// The tap QEMU opens.
        public var tap: String
        /// The pod interface's MTU, which the tap (and the in-pod bridge) take.
        public var mtu: Int
        public var joint: Joint
        /// The MAC the pod interface is set to first; nil: it keeps its own. With a bridge the guest takes
        /// the pod interface's MAC, so the pod interface gets another; with a mirror it is the guest's MAC
        /// when that differs from the one the ADD gave.
        public var podInterfaceMAC: String?
        /// What the guest gets by DHCP; nil: no address came with the network (IPAM none), the guest
        /// configures itself and no DHCP is answered.
        public var guest: Address?
        /// The position of the interface among the pod's bridge interfaces, which picks the link-local
        /// address DHCP answers from (169.254.75.10 + position).
        public var position: Int

        public init(interfaceName: String, podInterface: String, tap: String, mtu: Int = 1500, joint: Joint = .bridge,
                    podInterfaceMAC: String? = nil, guest: Address? = nil, position: Int = 0) {
            self.interfaceName = interfaceName
            self.podInterface = podInterface
            self.tap = tap
            self.mtu = mtu
            self.joint = joint
            self.podInterfaceMAC = podInterfaceMAC
            self.guest = guest
            self.position = position
        }

        /// The link-local address the DHCP answers come from: 169.254.75.10 and on, one per interface.
        public var serverAddress: IPv4Address { IPv4Address(0xa9fe_4b0a + UInt32(max(0, min(position, 200)))) }
    }

    /// The wiring of bridge interfaces. For each: the pod interface loses its addresses (the guest has
    /// them now) and, when asked, changes its MAC; then either the in-pod bridge `k6t-<pod interface>`
    /// joins it and the tap, or two tc redirects do. When the guest has an address, the bridge (or the
    /// tap) holds the link-local address the DHCP answers come from, and with a mirror, DHCP requests
    /// from the guest stay in the pod for the responder instead of leaving.
    public static func bridge(_ interfaces: [Bridge]) -> PodWiring {
        var wiring = PodWiring()
        for interface in interfaces {
            let pod = interface.podInterface
            let tap = interface.tap
            if interface.joint != .mirrorKeepingAddress { wiring.ipCommands.append("addr flush dev \(pod)") }
            if let mac = interface.podInterfaceMAC, interface.joint != .mirrorKeepingAddress {
                wiring.ipCommands += ["link set \(pod) down", "link set \(pod) address \(mac)"]
            }
            wiring.ipCommands += ["tuntap add dev \(tap) mode tap"]
            let dhcpDevice: String
            switch interface.joint {
            case .bridge:
                let bridge = NetworkNames.inPodBridge(for: pod)
                dhcpDevice = bridge
                wiring.ipCommands += [
                    "link add \(bridge) type bridge",
                    "link set \(bridge) mtu \(interface.mtu)",
                    "link set \(pod) master \(bridge) up",
                    "link set \(tap) mtu \(interface.mtu) master \(bridge) up",
                    "link set \(bridge) up",
                ]
            case .mirror, .mirrorKeepingAddress:
                dhcpDevice = tap
                wiring.ipCommands += ["link set \(tap) mtu \(interface.mtu) up", "link set \(pod) up"]
                wiring.tcCommands += [
                    "qdisc add dev \(pod) ingress",
                    "filter add dev \(pod) parent ffff: protocol all prio 2 u32 match u32 0 0 action mirred egress redirect dev \(tap)",
                    "qdisc add dev \(tap) ingress",
                ]
                if interface.guest != nil {
                    // A filter without an action ends the search and lets the packet on into the pod.
                    wiring.tcCommands.append(
                        "filter add dev \(tap) parent ffff: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 67 0xffff flowid ffff:1")
                }
                wiring.tcCommands.append(
                    "filter add dev \(tap) parent ffff: protocol all prio 2 u32 match u32 0 0 action mirred egress redirect dev \(pod)")
            }
            wiring.taps[interface.interfaceName] = tap
            if let guest = interface.guest {
                wiring.ipCommands.append("addr add \(interface.serverAddress)/32 dev \(dhcpDevice)")
                wiring.guestAddresses[interface.interfaceName] = GuestAddress(
                    device: dhcpDevice, address: guest.address, prefixLength: guest.prefixLength, router: guest.router,
                    server: interface.serverAddress, mtu: interface.mtu, dnsServers: guest.dnsServers)
            }
        }
        return wiring
    }
}

extension PodWiring.Bridge.Address {
    /// The first IPv4 address an ADD result gives the pod interface `podInterface` in `sandbox`, with its
    /// gateway (or the result's default route) and DNS servers; nil when it gives none.
    public init?(result: CNIResult, podInterface: String, sandbox: String) {
        guard let ip = result.addresses(ofInterface: podInterface, inSandbox: sandbox).first(where: { IPv4Address($0.host) != nil }),
              let address = IPv4Address(ip.host), let length = ip.prefixLength, (0...32).contains(length) else { return nil }
        let defaultRoute = result.routes.first { $0.dst == "0.0.0.0/0" }?.gw
        self.init(address: address, prefixLength: length, router: (ip.gateway ?? defaultRoute).flatMap { IPv4Address($0) },
                  dnsServers: result.dns.nameservers.compactMap { IPv4Address($0) })
    }
}
