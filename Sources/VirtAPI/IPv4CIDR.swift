import VirtError

/// An IPv4 address.
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address, most significant octet first.
    public var value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    /// Parses dotted-quad text (`10.0.2.2`); nil for anything else (leading zeros, signs, missing parts,
    /// values above 255, surrounding spaces).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }), let octet = UInt8(part),
                  part == "0" || !part.hasPrefix("0")
            else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    /// The four octets, most significant first.
    public var octets: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    public var description: String { octets.map(String.init).joined(separator: ".") }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// An IPv4 network in CIDR notation (`10.244.0.0/16`), kept as its network address and prefix length.
public struct IPv4CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the network (host bits zero).
    public let network: IPv4Address
    /// The number of leading network bits, 0…32.
    public let prefixLength: Int

    /// The network of `prefixLength` bits that contains `address`.
    public init(containing address: IPv4Address, prefixLength: Int) {
        let length = min(max(prefixLength, 0), 32)
        self.prefixLength = length
        self.network = IPv4Address(address.value & Self.mask(length))
    }

    /// Parses `a.b.c.d/n`. With `strict`, host bits must be zero (as Kubernetes wants of a podCIDR).
    public init(parsing text: String, strict: Bool = false) throws(VirtError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]), parts[1].allSatisfy(\.isASCII),
              let length = Int(parts[1]), (0...32).contains(length), !parts[1].hasPrefix("+")
        else {
            throw VirtError(.invalid, "\"\(text)\" is not an IPv4 network in CIDR notation (like 10.244.0.0/16)")
        }
        self.init(containing: address, prefixLength: length)
        if strict, network != address {
            throw VirtError(.invalid, "\"\(text)\" has host bits set; its network is \(self)")
        }
    }

    /// The netmask of `length` bits.
    static func mask(_ length: Int) -> UInt32 {
        length == 0 ? 0 : UInt32.max << UInt32(32 - length)
    }

    /// The netmask as an address (`255.255.255.0`).
    public var netmask: IPv4Address { IPv4Address(Self.mask(prefixLength)) }

    /// How many addresses the network spans.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    /// The address `offset` after the network address (1: the first host), nil past the network's end.
    public func address(at offset: UInt64) -> IPv4Address? {
        guard offset < size else { return nil }
        return IPv4Address(network.value + UInt32(offset))
    }

    /// Whether `address` lies in the network.
    public func contains(_ address: IPv4Address) -> Bool {
        address.value & Self.mask(prefixLength) == network.value
    }

    /// Whether the two networks share an address.
    public func overlaps(_ other: IPv4CIDR) -> Bool {
        contains(other.network) || other.contains(network)
    }

    /// The `index`-th subnet of `prefixLength` bits (0: the first), nil when there are not that many.
    public func subnet(_ index: Int, prefixLength length: Int) -> IPv4CIDR? {
        guard length >= prefixLength, length <= 32, index >= 0, UInt64(index) < UInt64(1) << UInt64(length - prefixLength) else {
            return nil
        }
        let step = UInt64(1) << UInt64(32 - length)
        return IPv4CIDR(containing: IPv4Address(network.value + UInt32(UInt64(index) * step)), prefixLength: length)
    }

    public var description: String { "\(network)/\(prefixLength)" }
}
