import VirtAPI

/// An IPv4 address as DHCP carries it: the project's ``IPv4Address``, with what the wire format needs.
public typealias DHCPAddress = IPv4Address

extension IPv4Address {
    /// `0.0.0.0`: no address (a client that has none yet).
    public static let unspecified = IPv4Address(0)
    /// `255.255.255.255`: the limited broadcast address replies are sent to.
    public static let broadcast = IPv4Address(0xFFFF_FFFF)

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.init(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// Reads four bytes in network order; `nil` unless `bytes` holds exactly four.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        self.init(bytes.reduce(0) { $0 << 8 | UInt32($1) })
    }

    /// The four bytes in network order.
    public var bytes: [UInt8] { octets }

    /// The netmask of a prefix length (0…32; longer lengths count as 32).
    public static func mask(prefixLength: Int) -> IPv4Address {
        IPv4CIDR(containing: IPv4Address(0), prefixLength: prefixLength).netmask
    }
}
