import VirtAPI
import VirtError

extension PodWiring {
    /// A VM interface bound with `masquerade` to the pod network: the guest sits behind NAT on a network of
    /// its own (`vmNetworkCIDR`, default 10.0.2.0/24) and reaches the world through the pod's `eth0`.
    public struct Masquerade: Sendable, Equatable {
        /// A port of the pod carried to the guest (the interface's `ports`).
        public struct Port: Sendable, Equatable {
            /// `tcp` or `udp`.
            public var transport: String
            public var port: Int

            public init(transport: String, port: Int) {
                self.transport = transport
                self.port = port
            }
        }

        /// The VM interface's name (`spec.domain.devices.interfaces[].name`).
        public var interfaceName: String
        /// The pod's interface on the pod network.
        public var podInterface: String
        /// The tap QEMU opens.
        public var tap: String
        /// The pod interface's MTU, which the bridge, the tap and the guest take.
        public var mtu: Int
        /// The guest's network: its first host is the gateway, the second the guest.
        public var guestNetwork: IPv4CIDR
        /// Ports forwarded to the guest; empty forwards every port, as KubeVirt does.
        public var ports: [Port]

        public init(interfaceName: String, podInterface: String = NetworkNames.podInterface, tap: String = "tap0", mtu: Int = 1500,
                    guestNetwork: IPv4CIDR = Self.defaultGuestNetwork, ports: [Port] = []) {
            self.interfaceName = interfaceName
            self.podInterface = podInterface
            self.tap = tap
            self.mtu = mtu
            self.guestNetwork = guestNetwork
            self.ports = ports
        }

        /// 10.0.2.0/24, KubeVirt's default `vmNetworkCIDR`.
        public static let defaultGuestNetwork = IPv4CIDR(containing: IPv4Address(0x0a00_0200), prefixLength: 24)
        /// The in-pod bridge's MAC, the guest's gateway MAC (KubeVirt's choice, so the guest sees the same one
        /// in every pod it migrates to).
        public static let gatewayMAC = "02:00:00:00:00:00"

        /// The gateway (the in-pod bridge's address) and the guest's address.
        public func addresses() throws(VirtError) -> (gateway: IPv4Address, guest: IPv4Address) {
            guard guestNetwork.prefixLength <= 30, let gateway = guestNetwork.address(at: 1), let guest = guestNetwork.address(at: 2) else {
                throw VirtError(.invalid, "vmNetworkCIDR \(guestNetwork) is too small: it needs a gateway and a guest address besides the network and broadcast addresses (at most /30)")
            }
            return (gateway, guest)
        }
    }

    /// The wiring of masquerade interfaces: per interface an in-pod bridge `k6t-<pod interface>` holding the
    /// gateway address, the tap on it, forwarding on, and one `ip nat` table that masquerades the guest's
    /// traffic out of the pod interface and carries the forwarded ports (or, with none listed, every port)
    /// arriving on it to the guest. Connections to the pod's own loopback on a forwarded port reach the
    /// guest too.
    public static func masquerade(_ interfaces: [Masquerade]) throws(VirtError) -> PodWiring {
        var wiring = PodWiring()
        guard !interfaces.isEmpty else { return wiring }
        var prerouting: [String] = []
        var output: [String] = []
        var postrouting: [String] = []
        var preinbound: [String] = []
        var postinbound: [String] = []
        wiring.sysctls.append(Sysctl("net.ipv4.ip_forward", "1"))
        for interface in interfaces {
            let (gateway, guest) = try interface.addresses()
            let bridge = NetworkNames.inPodBridge(for: interface.podInterface)
            wiring.ipCommands += [
                "link add \(bridge) type bridge",
                "link set \(bridge) address \(Masquerade.gatewayMAC) mtu \(interface.mtu)",
                "addr add \(gateway)/\(interface.guestNetwork.prefixLength) dev \(bridge)",
                "tuntap add dev \(interface.tap) mode tap",
                "link set \(interface.tap) mtu \(interface.mtu) master \(bridge) up",
                "link set \(bridge) up",
            ]
            wiring.sysctls.append(Sysctl("net.ipv4.conf.\(bridge).route_localnet", "1"))
            wiring.taps[interface.interfaceName] = interface.tap
            wiring.guestAddresses[interface.interfaceName] = GuestAddress(
                device: bridge, address: guest, prefixLength: interface.guestNetwork.prefixLength, router: gateway, mtu: interface.mtu)

            postrouting.append("ip saddr \(guest) oifname \"\(interface.podInterface)\" masquerade")
            prerouting.append("iifname \"\(interface.podInterface)\" jump KUBEVIRT_PREINBOUND")
            postrouting.append("oifname \"\(bridge)\" jump KUBEVIRT_POSTINBOUND")
            if interface.ports.isEmpty {
                preinbound.append("dnat to \(guest)")
                output.append("ip daddr 127.0.0.1 dnat to \(guest)")
                postinbound.append("ip saddr 127.0.0.1 snat to \(gateway)")
            } else {
                for port in interface.ports {
                    preinbound.append("\(port.transport) dport \(port.port) dnat to \(guest)")
                    output.append("ip daddr 127.0.0.1 \(port.transport) dport \(port.port) dnat to \(guest)")
                    postinbound.append("ip saddr 127.0.0.1 \(port.transport) dport \(port.port) snat to \(gateway)")
                }
            }
        }
        func chain(_ name: String, hook: String? = nil, priority: Int = 0, _ rules: [String]) -> String {
            var lines = ["    chain \(name) {"]
            if let hook { lines.append("        type nat hook \(hook) priority \(priority); policy accept;") }
            lines += rules.map { "        " + $0 }
            lines.append("    }")
            return lines.joined(separator: "\n")
        }
        wiring.nftRuleset = ([
            "table ip nat {",
            chain("prerouting", hook: "prerouting", priority: -100, prerouting),
            chain("input", hook: "input", priority: 100, []),
            chain("output", hook: "output", priority: -100, output),
            chain("postrouting", hook: "postrouting", priority: 100, postrouting),
            chain("KUBEVIRT_PREINBOUND", preinbound),
            chain("KUBEVIRT_POSTINBOUND", postinbound),
            "}",
        ]).joined(separator: "\n") + "\n"
        return wiring
    }
}
