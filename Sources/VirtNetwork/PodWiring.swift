import VirtAPI

/// What the node agent sets up inside a launcher pod's network namespace so that each VM interface reaches
/// its network: one `ip -batch` script, the sysctls, one nftables ruleset, and the DHCP answers the agent
/// gives the guest. A pure value, rendered from the bindings (``PodWiring/masquerade(_:)``,
/// ``PodWiring/bridge(_:)``), applied in the pod's namespace as a whole, and gone with the namespace.
public struct PodWiring: Sendable, Equatable {
    /// A sysctl set inside the pod's namespace.
    public struct Sysctl: Sendable, Equatable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// What the guest gets by DHCP on one interface.
    public struct GuestAddress: Sendable, Equatable {
        /// The pod-side device the answers go out of (the in-pod bridge or the tap).
        public var device: String
        /// The guest's address and prefix length.
        public var address: IPv4Address
        public var prefixLength: Int
        /// Its default gateway; nil: none (a network without a gateway).
        public var router: IPv4Address?
        /// The address DHCP answers from (the gateway behind masquerade, a link-local one on a bridge).
        public var server: IPv4Address
        /// The interface's MTU.
        public var mtu: Int
        /// DNS servers the network's IPAM named; empty: the node's.
        public var dnsServers: [IPv4Address]

        public init(device: String, address: IPv4Address, prefixLength: Int, router: IPv4Address?, server: IPv4Address? = nil, mtu: Int,
                    dnsServers: [IPv4Address] = []) {
            self.device = device
            self.address = address
            self.prefixLength = prefixLength
            self.router = router
            self.server = server ?? router ?? address
            self.mtu = mtu
            self.dnsServers = dnsServers
        }
    }

    /// `ip -batch` lines, in order.
    public var ipCommands: [String] = []
    /// Sysctls, in order, after the links exist.
    public var sysctls: [Sysctl] = []
    /// `tc -batch` lines, in order, after the links exist.
    public var tcCommands: [String] = []
    /// An `nft -f` ruleset, empty when none is needed.
    public var nftRuleset: String = ""
    /// VM interface name → the tap QEMU opens for it.
    public var taps: [String: String] = [:]
    /// VM interface name → what its guest gets by DHCP.
    public var guestAddresses: [String: GuestAddress] = [:]

    public init() {}

    /// The wiring of `self` followed by `other`'s (the interfaces of two bindings in one pod).
    public mutating func merge(_ other: PodWiring) {
        ipCommands += other.ipCommands
        for sysctl in other.sysctls where !sysctls.contains(sysctl) { sysctls.append(sysctl) }
        tcCommands += other.tcCommands
        nftRuleset += other.nftRuleset
        taps.merge(other.taps) { mine, _ in mine }
        guestAddresses.merge(other.guestAddresses) { mine, _ in mine }
    }
}
