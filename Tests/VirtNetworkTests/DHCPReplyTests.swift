import Testing
import VirtAPI
@testable import VirtNetwork

@Suite struct DHCPReplyTests {
    let lease = DHCPTestData.lease
    let mac = DHCPTestData.clientMAC

    /// The options every OFFER and ACK of `DHCPTestData.lease` carries after option 53, in order.
    var leaseOptions: [DHCPOption] {
        [
            DHCPOption(.serverIdentifier, [10, 0, 2, 1]),
            DHCPOption(.leaseTime, [0x05, 0x25, 0x0A, 0x80]),  // 999 days
            DHCPOption(.subnetMask, [255, 255, 255, 0]),
            DHCPOption(.router, [10, 0, 2, 1]),
            DHCPOption(.domainNameServer, [10, 96, 0, 10, 192, 0, 2, 53]),
            DHCPOption(.hostName, Array("vmi-fedora".utf8)),
            DHCPOption(.domainName, Array("cluster.local".utf8)),
            DHCPOption(.interfaceMTU, [0x05, 0x78]),
            DHCPOption(.broadcastAddress, [10, 0, 2, 255]),
            DHCPOption(.domainSearch, [7] + Array("default".utf8) + [3] + Array("svc".utf8) + [7] + Array("cluster".utf8)
                + [5] + Array("local".utf8) + [0] + [7] + Array("cluster".utf8) + [5] + Array("local".utf8) + [0]),
            // 10.1.0.0/16 via 10.0.2.1, then the default route the reply adds for clients that ignore option 3.
            DHCPOption(.classlessStaticRoute, [16, 10, 1, 10, 0, 2, 1, 0, 10, 0, 2, 1]),
            DHCPOption(.tftpServerName, Array("tftp.example".utf8)),
            DHCPOption(.bootFileName, Array("pxelinux.0".utf8)),
            DHCPOption(.ntpServers, [192, 0, 2, 123]),
            DHCPOption(DHCPOption.Code(224), Array("hello".utf8)),
        ]
    }

    @Test func udhcpcsDiscoverGetsAnOfferOfTheLease() throws {
        let discover = try DHCPMessage(bytes: DHCPTestData.udhcpcDiscover)
        let offer = try #require(DHCPResponder.reply(to: discover, lease: lease, clientMAC: mac))
        #expect(offer.operation == .reply)
        #expect(offer.messageType == .offer)
        #expect(offer.transactionID == 0x69AB_BD06)
        #expect(offer.yourAddress == DHCPAddress(10, 0, 2, 2))
        #expect(offer.clientAddress == .unspecified)
        #expect(offer.clientHardwareAddress == discover.clientHardwareAddress)
        #expect(offer.hardwareType == 1 && offer.hardwareAddressLength == 6)
        #expect(offer.options == [DHCPOption(.messageType, [2])] + leaseOptions)
        // What goes on the wire reads back as the same offer.
        #expect(try DHCPMessage(bytes: offer.encoded()) == offer)
    }

    @Test func requestForTheOfferedAddressIsAcknowledged() throws {
        let request = DHCPTestData.request(.request, options: [
            .addresses(.requestedIPAddress, [DHCPAddress(10, 0, 2, 2)]), .addresses(.serverIdentifier, [DHCPAddress(10, 0, 2, 1)]),
        ])
        let ack = try #require(DHCPResponder.reply(to: request, lease: lease, clientMAC: mac))
        #expect(ack.messageType == .ack)
        #expect(ack.yourAddress == DHCPAddress(10, 0, 2, 2))
        #expect(ack.transactionID == request.transactionID)
        #expect(ack.options == [DHCPOption(.messageType, [5])] + leaseOptions)
    }

    @Test func initRebootAndRenewalOfTheAddressAreAcknowledged() throws {
        let reboot = DHCPTestData.request(.request, options: [.addresses(.requestedIPAddress, [DHCPAddress(10, 0, 2, 2)])])
        #expect(DHCPResponder.reply(to: reboot, lease: lease, clientMAC: mac)?.messageType == .ack)

        let renew = DHCPTestData.request(.request, clientAddress: DHCPAddress(10, 0, 2, 2))
        let ack = try #require(DHCPResponder.reply(to: renew, lease: lease, clientMAC: mac))
        #expect(ack.messageType == .ack)
        #expect(ack.clientAddress == DHCPAddress(10, 0, 2, 2))
        #expect(ack.yourAddress == DHCPAddress(10, 0, 2, 2))
    }

    @Test func requestForAnotherAddressIsRefused() throws {
        for request in [
            DHCPTestData.request(.request, options: [.addresses(.requestedIPAddress, [DHCPAddress(10, 0, 2, 7)]),
                                                     .addresses(.serverIdentifier, [DHCPAddress(10, 0, 2, 1)])]),
            DHCPTestData.request(.request, options: [.addresses(.requestedIPAddress, [DHCPAddress(192, 168, 1, 5)])]),
            DHCPTestData.request(.request, clientAddress: DHCPAddress(10, 0, 2, 9)),
        ] {
            let nak = try #require(DHCPResponder.reply(to: request, lease: lease, clientMAC: mac))
            #expect(nak.messageType == .nak)
            #expect(nak.yourAddress == .unspecified)
            #expect(nak.serverIdentifier == DHCPAddress(10, 0, 2, 1))
            #expect(nak.option(.leaseTime) == nil && nak.option(.subnetMask) == nil)
            #expect(nak.option(.message).map { String(decoding: $0, as: UTF8.self) }?.contains("the lease is 10.0.2.2") == true)
        }
    }

    @Test func requestNamingAnotherServerIsLeftToIt() {
        let request = DHCPTestData.request(.request, options: [
            .addresses(.requestedIPAddress, [DHCPAddress(10, 0, 2, 2)]), .addresses(.serverIdentifier, [DHCPAddress(10, 0, 2, 3)]),
        ])
        #expect(DHCPResponder.reply(to: request, lease: lease, clientMAC: mac) == nil)
    }

    @Test func anotherMACGetsNothing() throws {
        let other = try #require(DHCPHardwareAddress("02:11:22:33:44:56"))
        for type in [DHCPMessage.MessageType.discover, .request, .inform] {
            let message = DHCPTestData.request(type, mac: other, options: [.addresses(.requestedIPAddress, [DHCPAddress(10, 0, 2, 2)])])
            #expect(DHCPResponder.reply(to: message, lease: lease, clientMAC: mac) == nil)
        }
        // Nor does a message whose hardware is not Ethernet, even with the right first six bytes.
        var tokenRing = DHCPTestData.request(.discover)
        tokenRing.hardwareType = 6
        #expect(DHCPResponder.reply(to: tokenRing, lease: lease, clientMAC: mac) == nil)
    }

    @Test func informIsAnsweredWithTheSettingsButNoAddressOrLeaseTime() throws {
        let inform = DHCPTestData.request(.inform, clientAddress: DHCPAddress(10, 0, 2, 2))
        let ack = try #require(DHCPResponder.reply(to: inform, lease: lease, clientMAC: mac))
        #expect(ack.messageType == .ack)
        #expect(ack.yourAddress == .unspecified)
        #expect(ack.clientAddress == DHCPAddress(10, 0, 2, 2))
        #expect(ack.option(.leaseTime) == nil)
        #expect(ack.options == [DHCPOption(.messageType, [5])] + leaseOptions.filter { $0.code != .leaseTime })
    }

    @Test func releaseDeclineRepliesAndPlainBOOTPGetNothing() {
        for type in [DHCPMessage.MessageType.release, .decline, .offer, .ack, .nak] {
            #expect(DHCPResponder.reply(to: DHCPTestData.request(type), lease: lease, clientMAC: mac) == nil, "\(type)")
        }
        var reply = DHCPTestData.request(.discover)
        reply.operation = .reply
        #expect(DHCPResponder.reply(to: reply, lease: lease, clientMAC: mac) == nil)
        let bootp = DHCPMessage(operation: .request, transactionID: 1, clientHardwareAddress: mac.bytes)
        #expect(DHCPResponder.reply(to: bootp, lease: lease, clientMAC: mac) == nil)
    }

    @Test func aMinimalLeaseSendsOnlyWhatItHas() throws {
        let minimal = DHCPLease(address: DHCPAddress(169, 254, 75, 12), prefixLength: 32, serverAddress: DHCPAddress(169, 254, 75, 11))
        let offer = try #require(DHCPResponder.reply(to: DHCPTestData.request(.discover), lease: minimal, clientMAC: mac))
        #expect(offer.options.map(\.code) == [.messageType, .serverIdentifier, .leaseTime, .subnetMask])
        #expect(offer.option(.subnetMask) == [255, 255, 255, 255])

        // Routes that hold a default route are sent as they are.
        var routed = minimal
        routed.router = DHCPAddress(169, 254, 75, 11)
        routed.routes = [try DHCPLease.Route(cidr: "0.0.0.0/0", gateway: "169.254.75.11")]
        #expect(routed.classlessRoutes == routed.routes)
    }

    @Test func kubeVirtDHCPOptionsBecomeOptions() throws {
        let json: JSONValue = .object([
            "bootFileName": .string("pxelinux.0"), "tftpServerName": .string("tftp.example"),
            "ntpServers": .array([.string("192.0.2.123"), .string("192.0.2.124")]),
            "privateOptions": .array([.object(["option": .int(240), "value": .string("extra")])]),
        ])
        #expect(try DHCPLease.options(kubeVirtDHCPOptions: json) == [
            .text(.tftpServerName, "tftp.example"), .text(.bootFileName, "pxelinux.0"),
            DHCPOption(.ntpServers, [192, 0, 2, 123, 192, 0, 2, 124]), .text(DHCPOption.Code(240), "extra"),
        ])
        #expect(try DHCPLease.options(kubeVirtDHCPOptions: nil).isEmpty)
    }

    @Test func kubeVirtDHCPOptionsThatCannotBeSentAreRefusedWithTheirField() {
        let path = "spec.domain.devices.interfaces[0].dhcpOptions"
        let cases: [(JSONValue, String)] = [
            (.object(["privateOptions": .array([.object(["option": .int(100), "value": .string("x")])])]), "\(path).privateOptions[0].option"),
            (.object(["privateOptions": .array([.object(["option": .int(224), "value": .string("x")]),
                                                .object(["option": .int(224), "value": .string("y")])])]), "\(path).privateOptions[1].option 224 is given twice"),
            (.object(["ntpServers": .array([.string("ntp.example")])]), "\(path).ntpServers[0]"),
            (.object(["bootFileName": .int(1)]), "\(path).bootFileName must be a string"),
            (.object(["nextServer": .string("x")]), "\(path).nextServer is not a DHCP option field"),
        ]
        for (json, expected) in cases {
            #expect {
                try DHCPLease.options(kubeVirtDHCPOptions: json, path: path)
            } throws: { error in
                guard case DHCPError.invalidLease(let message) = error else { return false }
                return message.contains(expected)
            }
        }
    }

    @Test func leasesAClientCouldNotUseAreRefused() throws {
        try lease.validate()
        var bad = [DHCPLease](repeating: lease, count: 5)
        bad[0].prefixLength = 33
        bad[1].mtu = 40
        bad[2].searchDomains = ["a..b"]
        bad[3].hostname = String(repeating: "x", count: 64)
        bad[4].address = .unspecified
        for lease in bad {
            #expect(throws: DHCPError.self) { try lease.validate() }
        }
        #expect(throws: DHCPError.self) { try DHCPLease.Route(cidr: "10.1.0.0", gateway: "10.0.2.1") }
        #expect(throws: DHCPError.self) { try DHCPLease.Route(cidr: "10.1.0.0/16", gateway: "gw") }
    }
}
