import Testing
@testable import VirtNetwork

@Suite struct DHCPMessageTests {
    @Test func udhcpcsDiscoverIsRead() throws {
        let message = try DHCPMessage(bytes: DHCPTestData.udhcpcDiscover)
        #expect(message.operation == .request)
        #expect(message.transactionID == 0x69AB_BD06)
        #expect(message.flags == 0)
        #expect(message.clientAddress == .unspecified)
        #expect(message.clientMAC == DHCPTestData.clientMAC)
        #expect(message.messageType == .discover)
        #expect(message.options.map(\.code.rawValue) == [53, 57, 55, 60, 61])
        #expect(message.option(.parameterRequestList) == [1, 3, 6, 12, 15, 28, 42])
        #expect(message.option(DHCPOption.Code(60)) == Array("udhcp 1.35.0".utf8))
        #expect(message.option(DHCPOption.Code(61)) == [1] + DHCPTestData.clientMAC.bytes)
        #expect(message.requestedAddress == nil)
        #expect(message.serverIdentifier == nil)
    }

    @Test func encodingWritesTheHeaderOptionsEndAndPadding() throws {
        let discover = try DHCPMessage(bytes: DHCPTestData.udhcpcDiscover)
        // udhcpc's packet is itself header, cookie, options, end and zero padding to 300 bytes.
        #expect(discover.encoded() == DHCPTestData.udhcpcDiscover)

        let offer = DHCPMessage(
            operation: .reply, transactionID: 7, clientHardwareAddress: DHCPTestData.clientMAC.bytes, flags: 0x8000,
            yourAddress: DHCPAddress(10, 0, 2, 2), options: [DHCPOption(.messageType, [2]), .uint32(.leaseTime, 86_313_600)])
        let bytes = offer.encoded()
        #expect(bytes.count == 300)
        #expect(Array(bytes[0..<4]) == [2, 1, 6, 0])
        #expect(Array(bytes[4..<8]) == [0, 0, 0, 7])
        #expect(Array(bytes[10..<12]) == [0x80, 0])
        #expect(Array(bytes[16..<20]) == [10, 0, 2, 2])
        #expect(Array(bytes[28..<34]) == DHCPTestData.clientMAC.bytes)
        #expect(Array(bytes[236..<240]) == [99, 130, 83, 99])
        #expect(Array(bytes[240..<252]) == [53, 1, 2, 51, 4, 0x05, 0x25, 0x0A, 0x80, 255, 0, 0])
        #expect(try DHCPMessage(bytes: bytes) == offer)
    }

    @Test func longValuesAreSplitAndJoinedAgain() throws {
        let long = (0..<600).map { UInt8(truncatingIfNeeded: $0) }
        let message = DHCPMessage(operation: .reply, transactionID: 1, clientHardwareAddress: [],
                                  options: [DHCPOption(.domainSearch, long), DHCPOption(.messageType, [5])])
        let bytes = message.encoded()
        let decoded = try DHCPMessage(bytes: bytes)
        #expect(decoded.options.filter { $0.code == .domainSearch }.map(\.data.count) == [255, 255, 90])
        #expect(decoded.option(.domainSearch) == long)
        #expect(decoded.messageType == .ack)
    }

    @Test func overloadedFileAndServerNameFieldsAreRead() throws {
        var bytes = DHCPMessage(operation: .request, transactionID: 1, clientHardwareAddress: DHCPTestData.clientMAC.bytes,
                                options: [DHCPOption(.optionOverload, [3]), DHCPOption(.messageType, [3])]).encoded()
        bytes.replaceSubrange(108..<114, with: [50, 4, 10, 0, 2, 2])   // file: requested address
        bytes.replaceSubrange(44..<51, with: [54, 4, 10, 0, 2, 1, 255]) // sname: server identifier, end
        let message = try DHCPMessage(bytes: bytes)
        #expect(message.requestedAddress == DHCPAddress(10, 0, 2, 2))
        #expect(message.serverIdentifier == DHCPAddress(10, 0, 2, 1))
        #expect(message.options.map(\.code.rawValue) == [52, 53, 50, 54])
    }

    @Test func malformedMessagesAreRefusedWithTheirReason() {
        let good = DHCPTestData.udhcpcDiscover
        #expect(throws: DHCPMessageError.tooShort(count: 239)) { try DHCPMessage(bytes: good.prefix(239)) }
        #expect(throws: DHCPMessageError.tooShort(count: 0)) { try DHCPMessage(bytes: []) }
        var bytes = good
        bytes[0] = 3
        #expect(throws: DHCPMessageError.unknownOperation(3)) { try DHCPMessage(bytes: bytes) }
        bytes = good
        bytes[2] = 17
        #expect(throws: DHCPMessageError.hardwareAddressTooLong(17)) { try DHCPMessage(bytes: bytes) }
        bytes = good
        bytes[239] = 0
        #expect(throws: DHCPMessageError.missingMagicCookie) { try DHCPMessage(bytes: bytes) }
        // The client id (61) says 7 bytes; the datagram ends after 3 of them.
        let cut = Array(good.prefix(240 + 3 + 4 + 9 + 14 + 2 + 3))
        #expect(throws: DHCPMessageError.truncatedOption(code: 61, field: "options")) { try DHCPMessage(bytes: cut) }
        // A code with no length byte after it.
        #expect(throws: DHCPMessageError.truncatedOption(code: 61, field: "options")) { try DHCPMessage(bytes: good.prefix(240 + 3 + 4 + 9 + 14 + 1)) }
    }

    @Test func aMessageWithoutEndOptionEndsWithItsBytes() throws {
        let message = try DHCPMessage(bytes: DHCPTestData.udhcpcDiscover.prefix(240 + 3))
        #expect(message.messageType == .discover)
        #expect(message.options.count == 1)
    }

    @Test func addressesAreReadStrictly() {
        #expect(DHCPAddress("10.0.2.2") == DHCPAddress(10, 0, 2, 2))
        #expect(DHCPAddress("255.255.255.255") == .broadcast)
        for bad in ["", "10.0.2", "10.0.2.2.1", "10.0.2.256", "10.0.2.02", " 10.0.2.2", "10.0.2.-1", "a.b.c.d", "10..2.2", "١.٢.٣.٤"] {
            #expect(DHCPAddress(bad) == nil, "\(bad)")
        }
        #expect(DHCPAddress.mask(prefixLength: 24) == DHCPAddress(255, 255, 255, 0))
        #expect(DHCPAddress.mask(prefixLength: 0) == .unspecified)
        #expect(DHCPAddress.mask(prefixLength: 32) == .broadcast)
        #expect(DHCPAddress(10, 0, 2, 2).description == "10.0.2.2")
        #expect(DHCPHardwareAddress("02:11:22:33:44:55")?.bytes == [2, 0x11, 0x22, 0x33, 0x44, 0x55])
        #expect(DHCPHardwareAddress("02-AB-22-33-44-55")?.description == "02:ab:22:33:44:55")
        for bad in ["", "02:11:22:33:44", "02:11:22:33:44:55:66", "02:11:22:33:44:5", "02:11:22:33:44:gg", "021122334455"] {
            #expect(DHCPHardwareAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func searchDomainsAreLengthPrefixedLabels() {
        let option = DHCPOption.domainSearch(["eng.example.com", "example.com."])
        #expect(option.data == [3] + Array("eng".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]
            + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0])
    }

    @Test func classlessRoutesCarryOnlyTheSignificantDestinationBytes() {
        // RFC 3442's encodings: 0/0 → 0; 10/8 → 8.10; 10.17/16 → 16.10.17; 10.229.0.128/25 → 25.10.229.0.128.
        let gateway = DHCPAddress(10, 0, 2, 1)
        let option = DHCPOption.classlessStaticRoutes([
            DHCPLease.Route(destination: .unspecified, prefixLength: 0, gateway: gateway),
            DHCPLease.Route(destination: DHCPAddress(10, 9, 9, 9), prefixLength: 8, gateway: gateway),
            DHCPLease.Route(destination: DHCPAddress(10, 17, 0, 0), prefixLength: 16, gateway: gateway),
            DHCPLease.Route(destination: DHCPAddress(10, 229, 0, 128), prefixLength: 25, gateway: gateway),
        ])
        #expect(option.data == [0, 10, 0, 2, 1, 8, 10, 10, 0, 2, 1, 16, 10, 17, 10, 0, 2, 1, 25, 10, 229, 0, 128, 10, 0, 2, 1])
    }
}
