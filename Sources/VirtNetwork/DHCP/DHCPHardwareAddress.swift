/// An Ethernet MAC address: the client hardware address (`chaddr`) a lease is given to.
public struct DHCPHardwareAddress: Sendable, Hashable, CustomStringConvertible {
    /// The six bytes.
    public let bytes: [UInt8]

    /// Six bytes; `nil` for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 6 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Reads `02:00:00:00:00:0a` (or with `-`, either case); `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(omittingEmptySubsequences: false) { $0 == ":" || $0 == "-" }
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.count == 2, part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    /// Lower-case, colon-separated: `02:00:00:00:00:0a`.
    public var description: String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
