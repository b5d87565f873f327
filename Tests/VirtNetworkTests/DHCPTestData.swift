@testable import VirtNetwork

/// Messages the DHCP tests share.
enum DHCPTestData {
    /// A DISCOVER as busybox 1.35 udhcpc sent it (captured from `udhcpc -i dcg0` on a veth with MAC
    /// 02:11:22:33:44:55): options 53, 57 (576), 55 [1 3 6 12 15 28 42], 60 "udhcp 1.35.0", 61 client id.
    static let udhcpcDiscoverHex =
        "0101060069abbd06" + "00000000" + String(repeating: "00", count: 16) // op…xid, secs, flags, 4 addresses
        + "021122334455" + String(repeating: "00", count: 10)                 // chaddr
        + String(repeating: "00", count: 64 + 128)                             // sname, file
        + "638253633501013902024037070103060c0f1c2a3c0c756468637020312e33352e303d0701021122334455ff"
        + String(repeating: "00", count: 20)

    static var udhcpcDiscover: [UInt8] { bytes(hex: udhcpcDiscoverHex) }

    static let clientMAC = DHCPHardwareAddress("02:11:22:33:44:55")!

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    /// A masquerade-shaped lease with every field set.
    static let lease = DHCPLease(
        address: DHCPAddress(10, 0, 2, 2), prefixLength: 24, serverAddress: DHCPAddress(10, 0, 2, 1),
        router: DHCPAddress(10, 0, 2, 1), dnsServers: [DHCPAddress(10, 96, 0, 10), DHCPAddress(192, 0, 2, 53)],
        searchDomains: ["default.svc.cluster.local", "cluster.local"], domainName: "cluster.local",
        hostname: "vmi-fedora", mtu: 1400,
        routes: [DHCPLease.Route(destination: DHCPAddress(10, 1, 0, 0), prefixLength: 16, gateway: DHCPAddress(10, 0, 2, 1))],
        extraOptions: [.text(.tftpServerName, "tftp.example"), .text(.bootFileName, "pxelinux.0"),
                       .addresses(.ntpServers, [DHCPAddress(192, 0, 2, 123)]), .text(DHCPOption.Code(224), "hello")])

    /// A client message of `type` from `mac` with `options` after option 53.
    static func request(
        _ type: DHCPMessage.MessageType, mac: DHCPHardwareAddress = clientMAC, clientAddress: DHCPAddress = .unspecified,
        options: [DHCPOption] = []
    ) -> DHCPMessage {
        DHCPMessage(operation: .request, transactionID: 0x1234_5678, clientHardwareAddress: mac.bytes,
                    clientAddress: clientAddress, options: [DHCPOption(.messageType, [type.rawValue])] + options)
    }
}
