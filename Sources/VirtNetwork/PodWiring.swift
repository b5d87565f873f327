import VirtAPI

/// What the node agent sets up inside a launcher pod's network namespace so that each VM interface reaches
/// its network: one `ip -batch` script, the sysctls, one nftables ruleset, and the DHCP answers the agent
/// gives the guest. A pure value, rendered from the bindings (``PodWiring/masquerade(_:)``), applied in the
/// pod's namespace as a whole, and gone with the namespace.
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
        /// Its default gateway, which is also the address DHCP answers from.
        public var router: IPv4Address
        /// The interface's MTU.
        public var mtu: Int
    }

    /// `ip -batch` lines, in order.
    public var ipCommands: [String] = []
    /// Sysctls, in order, after the links exist.
    public var sysctls: [Sysctl] = []
    /// An `nft -f` ruleset, empty when none is needed.
    public var nftRuleset: String = ""
    /// VM interface name → the tap QEMU opens for it.
    public var taps: [String: String] = [:]
    /// VM interface name → what its guest gets by DHCP.
    public var guestAddresses: [String: GuestAddress] = [:]

    public init() {}
}
