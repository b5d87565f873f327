/// Why bytes received on the DHCP port are not a DHCP message. The responder drops such datagrams.
public enum DHCPMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Fewer bytes than the 236-byte BOOTP header and the 4-byte magic cookie.
    case tooShort(count: Int)
    /// The `op` byte is neither 1 (request) nor 2 (reply).
    case unknownOperation(UInt8)
    /// `hlen` says more than the 16 bytes `chaddr` holds.
    case hardwareAddressTooLong(UInt8)
    /// The four bytes after the header are not 99.130.83.99: a BOOTP message without DHCP options.
    case missingMagicCookie
    /// An option's length byte, or its value, runs past the end of the field that holds it.
    case truncatedOption(code: UInt8, field: String)

    public var description: String {
        switch self {
        case .tooShort(let count):
            "a DHCP message has at least 240 bytes (BOOTP header and magic cookie); this one has \(count)"
        case .unknownOperation(let op):
            "BOOTP op \(op) is neither 1 (request) nor 2 (reply)"
        case .hardwareAddressTooLong(let length):
            "the hardware address length \(length) exceeds the 16 bytes of chaddr"
        case .missingMagicCookie:
            "the message lacks the DHCP magic cookie 99.130.83.99 (plain BOOTP is not served)"
        case .truncatedOption(let code, let field):
            "option \(code) in the \(field) field runs past the end of the field"
        }
    }
}
