/// One DHCP option (RFC 2132): a code and its value bytes. A value longer than 255 bytes is legal here;
/// encoding splits it into several options of the same code, as RFC 3396 has clients join them again.
public struct DHCPOption: Sendable, Equatable {
    public var code: Code
    public var data: [UInt8]

    public init(_ code: Code, _ data: [UInt8]) {
        self.code = code
        self.data = data
    }

    /// An option code. The named ones are those this project reads or writes.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public init(_ rawValue: UInt8) { self.rawValue = rawValue }

        public static let pad = Code(0)
        public static let subnetMask = Code(1)
        public static let router = Code(3)
        public static let domainNameServer = Code(6)
        public static let hostName = Code(12)
        public static let domainName = Code(15)
        public static let interfaceMTU = Code(26)
        public static let broadcastAddress = Code(28)
        public static let ntpServers = Code(42)
        public static let requestedIPAddress = Code(50)
        public static let leaseTime = Code(51)
        /// Says that the `file` and/or `sname` header fields hold further options.
        public static let optionOverload = Code(52)
        public static let messageType = Code(53)
        public static let serverIdentifier = Code(54)
        public static let parameterRequestList = Code(55)
        public static let message = Code(56)
        public static let tftpServerName = Code(66)
        public static let bootFileName = Code(67)
        public static let domainSearch = Code(119)
        public static let classlessStaticRoute = Code(121)
        public static let end = Code(255)

        public var description: String { String(rawValue) }
    }
}

extension DHCPOption {
    /// A 32-bit number in network order (lease time).
    public static func uint32(_ code: Code, _ value: UInt32) -> DHCPOption {
        DHCPOption(code, [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                          UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }

    /// A 16-bit number in network order (MTU).
    public static func uint16(_ code: Code, _ value: UInt16) -> DHCPOption {
        DHCPOption(code, [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }

    /// One or more IPv4 addresses, four bytes each.
    public static func addresses(_ code: Code, _ addresses: [DHCPAddress]) -> DHCPOption {
        DHCPOption(code, addresses.flatMap(\.bytes))
    }

    /// Text, as its UTF-8 bytes (no terminating NUL).
    public static func text(_ code: Code, _ text: String) -> DHCPOption {
        DHCPOption(code, Array(text.utf8))
    }

    /// RFC 1035 names for option 119 (domain search, RFC 3397): each name as its length-prefixed labels
    /// and a zero byte, without compression. Empty labels (a trailing dot) are dropped; a label longer than
    /// the 63 bytes a length byte may say is cut there (`DHCPLease.validate()` refuses such names first).
    public static func domainSearch(_ names: [String]) -> DHCPOption {
        var data: [UInt8] = []
        for name in names {
            for label in name.split(separator: ".") {
                let bytes = Array(label.utf8.prefix(63))
                data.append(UInt8(bytes.count))
                data += bytes
            }
            data.append(0)
        }
        return DHCPOption(.domainSearch, data)
    }

    /// Option 121 (RFC 3442): per route the prefix length, the destination's significant bytes
    /// (`ceil(length / 8)` of them) and the four bytes of the gateway.
    public static func classlessStaticRoutes(_ routes: [DHCPLease.Route]) -> DHCPOption {
        var data: [UInt8] = []
        for route in routes {
            let length = max(0, min(32, route.prefixLength))
            let destination = DHCPAddress(route.destination.value & DHCPAddress.mask(prefixLength: length).value)
            data.append(UInt8(length))
            data += destination.bytes.prefix((length + 7) / 8)
            data += route.gateway.bytes
        }
        return DHCPOption(.classlessStaticRoute, data)
    }
}
