/// An IPv4 address as DHCP carries it: four bytes in network order, held as a host-order integer.
public struct DHCPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address as an integer: `10.0.2.2` is `0x0A00_0202`.
    public var value: UInt32

    /// `0.0.0.0`: no address (a client that has none yet).
    public static let unspecified = DHCPAddress(0)
    /// `255.255.255.255`: the limited broadcast address replies are sent to.
    public static let broadcast = DHCPAddress(0xFFFF_FFFF)

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Reads a dotted quad (`10.0.2.2`); `nil` for anything else (leading zeros, missing parts, values
    /// above 255, surrounding spaces).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    /// Reads four bytes in network order; `nil` unless `bytes` holds exactly four.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The four bytes in network order.
    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// The netmask of a prefix length (0…32; longer lengths count as 32).
    public static func mask(prefixLength: Int) -> DHCPAddress {
        let length = max(0, min(32, prefixLength))
        return DHCPAddress(length == 0 ? 0 : UInt32.max << UInt32(32 - length))
    }

    public var description: String { bytes.map(String.init).joined(separator: ".") }

    public static func < (lhs: DHCPAddress, rhs: DHCPAddress) -> Bool { lhs.value < rhs.value }
}
