/// A DHCP message (RFC 2131): the BOOTP header and the options after the magic cookie.
///
/// `init(bytes:)` reads untrusted bytes: every read is bounds-checked and every malformation is a
/// `DHCPMessageError`, never a trap. `encoded()` writes the wire form back.
public struct DHCPMessage: Sendable, Equatable {
    /// BOOTP `op`.
    public enum Operation: UInt8, Sendable {
        case request = 1
        case reply = 2
    }

    /// Option 53.
    public enum MessageType: UInt8, Sendable {
        case discover = 1
        case offer = 2
        case request = 3
        case decline = 4
        case ack = 5
        case nak = 6
        case release = 7
        case inform = 8
    }

    /// `htype` of Ethernet.
    public static let ethernet: UInt8 = 1
    /// The `flags` bit by which a client asks for broadcast replies.
    public static let broadcastFlag: UInt16 = 0x8000
    /// The four bytes between the BOOTP header and the options.
    public static let magicCookie: [UInt8] = [99, 130, 83, 99]
    /// Size of the fixed BOOTP header.
    public static let headerSize = 236
    /// Clients may drop shorter messages: BOOTP's minimum, to which `encoded()` pads.
    public static let minimumSize = 300

    public var operation: Operation
    public var hardwareType: UInt8
    public var hardwareAddressLength: UInt8
    public var hops: UInt8
    /// `xid`: chosen by the client, copied into the reply.
    public var transactionID: UInt32
    public var seconds: UInt16
    public var flags: UInt16
    /// `ciaddr`: the client's address when it already has one (renewing, INFORM).
    public var clientAddress: DHCPAddress
    /// `yiaddr`: the address the server gives.
    public var yourAddress: DHCPAddress
    /// `siaddr`: the next server in a network boot.
    public var nextServerAddress: DHCPAddress
    /// `giaddr`: the relay agent.
    public var relayAddress: DHCPAddress
    /// `chaddr`: 16 bytes, of which the first `hardwareAddressLength` count.
    public var clientHardwareAddress: [UInt8]
    /// `sname`: 64 bytes.
    public var serverName: [UInt8]
    /// `file`: 128 bytes.
    public var bootFile: [UInt8]
    /// The options in wire order, without pad and end. Those `file` and `sname` carried under option 52
    /// follow those of the options field.
    public var options: [DHCPOption]

    public init(
        operation: Operation, transactionID: UInt32, clientHardwareAddress: [UInt8],
        hardwareType: UInt8 = DHCPMessage.ethernet, hardwareAddressLength: UInt8 = 6, hops: UInt8 = 0,
        seconds: UInt16 = 0, flags: UInt16 = 0,
        clientAddress: DHCPAddress = .unspecified, yourAddress: DHCPAddress = .unspecified,
        nextServerAddress: DHCPAddress = .unspecified, relayAddress: DHCPAddress = .unspecified,
        serverName: [UInt8] = [], bootFile: [UInt8] = [], options: [DHCPOption] = []
    ) {
        self.operation = operation
        self.hardwareType = hardwareType
        self.hardwareAddressLength = hardwareAddressLength
        self.hops = hops
        self.transactionID = transactionID
        self.seconds = seconds
        self.flags = flags
        self.clientAddress = clientAddress
        self.yourAddress = yourAddress
        self.nextServerAddress = nextServerAddress
        self.relayAddress = relayAddress
        self.clientHardwareAddress = Self.fit(clientHardwareAddress, 16)
        self.serverName = Self.fit(serverName, 64)
        self.bootFile = Self.fit(bootFile, 128)
        self.options = options
    }

    // MARK: Options

    /// The value of option `code`; several instances are joined in order (RFC 3396). `nil` when absent.
    public func option(_ code: DHCPOption.Code) -> [UInt8]? {
        let matching = options.filter { $0.code == code }
        return matching.isEmpty ? nil : matching.flatMap(\.data)
    }

    /// Option 53; `nil` when absent, not one byte, or not a known type.
    public var messageType: MessageType? {
        guard let data = option(.messageType), data.count == 1 else { return nil }
        return MessageType(rawValue: data[0])
    }

    /// Option 50, the address a client asks for.
    public var requestedAddress: DHCPAddress? { option(.requestedIPAddress).flatMap { DHCPAddress(bytes: $0) } }

    /// Option 54, the server a client chose or a server names itself by.
    public var serverIdentifier: DHCPAddress? { option(.serverIdentifier).flatMap { DHCPAddress(bytes: $0) } }

    /// The client's MAC: `chaddr` of an Ethernet message (`htype` 1, `hlen` 6); `nil` otherwise.
    public var clientMAC: DHCPHardwareAddress? {
        guard hardwareType == Self.ethernet, hardwareAddressLength == 6 else { return nil }
        return DHCPHardwareAddress(bytes: clientHardwareAddress.prefix(6))
    }

    // MARK: Decoding

    /// Reads a message from a datagram's payload.
    public init(bytes input: some Collection<UInt8>) throws(DHCPMessageError) {
        let bytes = Array(input)
        guard bytes.count >= Self.headerSize + Self.magicCookie.count else { throw .tooShort(count: bytes.count) }
        guard let operation = Operation(rawValue: bytes[0]) else { throw .unknownOperation(bytes[0]) }
        guard bytes[2] <= 16 else { throw .hardwareAddressTooLong(bytes[2]) }
        guard Array(bytes[236..<240]) == Self.magicCookie else { throw .missingMagicCookie }
        func uint32(at offset: Int) -> UInt32 { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        func address(at offset: Int) -> DHCPAddress { DHCPAddress(uint32(at: offset)) }
        self.operation = operation
        hardwareType = bytes[1]
        hardwareAddressLength = bytes[2]
        hops = bytes[3]
        transactionID = uint32(at: 4)
        seconds = UInt16(bytes[8]) << 8 | UInt16(bytes[9])
        flags = UInt16(bytes[10]) << 8 | UInt16(bytes[11])
        clientAddress = address(at: 12)
        yourAddress = address(at: 16)
        nextServerAddress = address(at: 20)
        relayAddress = address(at: 24)
        clientHardwareAddress = Array(bytes[28..<44])
        serverName = Array(bytes[44..<108])
        bootFile = Array(bytes[108..<236])

        var options = try Self.readOptions(bytes[240...], field: "options")
        // Option 52: 1 = `file` holds options, 2 = `sname` does, 3 = both; read in that order (RFC 2131).
        let overload = options.first { $0.code == .optionOverload }?.data.first ?? 0
        if overload & 1 != 0 { options += try Self.readOptions(bootFile[...], field: "file") }
        if overload & 2 != 0 { options += try Self.readOptions(serverName[...], field: "sname") }
        self.options = options
    }

    /// Options up to the end option or the end of the field; pads skipped.
    private static func readOptions(_ field: ArraySlice<UInt8>, field name: String) throws(DHCPMessageError) -> [DHCPOption] {
        var options: [DHCPOption] = []
        var index = field.startIndex
        while index < field.endIndex {
            let code = field[index]
            index += 1
            if code == DHCPOption.Code.pad.rawValue { continue }
            if code == DHCPOption.Code.end.rawValue { break }
            guard index < field.endIndex else { throw .truncatedOption(code: code, field: name) }
            let length = Int(field[index])
            index += 1
            guard field.endIndex - index >= length else { throw .truncatedOption(code: code, field: name) }
            options.append(DHCPOption(DHCPOption.Code(code), Array(field[index..<(index + length)])))
            index += length
        }
        return options
    }

    // MARK: Encoding

    /// The wire form: header, magic cookie, options (values over 255 bytes split into several options of
    /// the same code), end, padded to 300 bytes. Options go in the options field only (no overload).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.minimumSize)
        func append32(_ value: UInt32) { bytes += DHCPAddress(value).bytes }
        bytes += [operation.rawValue, hardwareType, hardwareAddressLength, hops]
        append32(transactionID)
        bytes += [UInt8(truncatingIfNeeded: seconds >> 8), UInt8(truncatingIfNeeded: seconds),
                  UInt8(truncatingIfNeeded: flags >> 8), UInt8(truncatingIfNeeded: flags)]
        for address in [clientAddress, yourAddress, nextServerAddress, relayAddress] { bytes += address.bytes }
        bytes += Self.fit(clientHardwareAddress, 16)
        bytes += Self.fit(serverName, 64)
        bytes += Self.fit(bootFile, 128)
        bytes += Self.magicCookie
        for option in options where option.code != .pad && option.code != .end {
            var rest = option.data[...]
            repeat {
                let chunk = rest.prefix(255)
                bytes += [option.code.rawValue, UInt8(chunk.count)]
                bytes += chunk
                rest = rest.dropFirst(chunk.count)
            } while !rest.isEmpty
        }
        bytes.append(DHCPOption.Code.end.rawValue)
        if bytes.count < Self.minimumSize { bytes += [UInt8](repeating: 0, count: Self.minimumSize - bytes.count) }
        return bytes
    }

    /// `bytes` cut or zero-padded to `count`.
    private static func fit(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
        bytes.count >= count ? Array(bytes.prefix(count)) : bytes + [UInt8](repeating: 0, count: count - bytes.count)
    }
}
