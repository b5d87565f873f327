import Foundation
import Testing
import VirtError

@testable import VirtAPI

/// The pod network's own fields: forwarded `ports`, `dhcpOptions` and `vmNetworkCIDR` are checked at
/// admission, each problem named at its field.
@Suite struct NetworkAdmissionTests {
    let base = UnsupportedFeaturesTests()

    func causes(interface extra: [String: JSONValue] = [:], pod: JSONValue = [:]) -> [VirtError.Cause] {
        var spec = UnsupportedFeaturesTests.runnableSpec
        var interface: [String: JSONValue] = ["name": "default", "masquerade": [:]]
        for (key, value) in extra { interface[key] = value }
        spec[path: ["domain", "devices", "interfaces"]] = [.object(interface)]
        spec["networks"] = [["name": "default", "pod": pod]]
        return base.admit(base.vmi(spec))
    }

    static let interface = "spec.domain.devices.interfaces[0]"

    @Test func wellFormedPortsOptionsAndNetworkAreAccepted() {
        #expect(causes(interface: [
            "ports": [["name": "http", "port": 80], ["port": 80, "protocol": "UDP"], ["port": 65535, "protocol": "TCP"]],
            "dhcpOptions": ["ntpServers": ["192.0.2.1"], "privateOptions": [["option": 254, "value": "x"]]],
        ], pod: ["vmNetworkCIDR": "192.168.7.0/30"]) == [])
    }

    @Test(arguments: [
        ([["port": 0]] as JSONValue, "\(interface).ports[0].port", "from 1 to 65535"),
        ([["port": 65536]] as JSONValue, "\(interface).ports[0].port", "from 1 to 65535"),
        ([["name": "x"]] as JSONValue, "\(interface).ports[0].port", "Required"),
        ([["port": "80"]] as JSONValue, "\(interface).ports[0].port", "port number"),
        ([["port": 80, "protocol": "SCTP"]] as JSONValue, "\(interface).ports[0].protocol", "TCP"),
        ([["port": 80, "protocol": "tcp"]] as JSONValue, "\(interface).ports[0].protocol", "TCP"),
        ([["name": "a", "port": 80], ["name": "a", "port": 81]] as JSONValue, "\(interface).ports[1].name", "unique"),
        ([["port": 80], ["port": 80, "protocol": "TCP"]] as JSONValue, "\(interface).ports[1].port", "already forwards TCP port 80"),
        (["port": 80] as JSONValue, "\(interface).ports", "must be of type array"),
    ])
    func badPortsAreNamed(ports: JSONValue, field: String, message: String) {
        let found = causes(interface: ["ports": ports])
        #expect(found.contains { $0.field == field && $0.message.contains(message) }, "\(found)")
    }

    @Test(arguments: [
        (["privateOptions": [["option": 100, "value": "x"]]] as JSONValue, "\(interface).dhcpOptions.privateOptions[0].option"),
        (["ntpServers": ["ntp.example"]] as JSONValue, "\(interface).dhcpOptions.ntpServers[0]"),
        (["nextServer": "x"] as JSONValue, "\(interface).dhcpOptions.nextServer"),
        ("text" as JSONValue, "\(interface).dhcpOptions"),
    ])
    func badDHCPOptionsAreNamed(options: JSONValue, field: String) {
        let found = causes(interface: ["dhcpOptions": options])
        #expect(found.map(\.field).contains(field), "\(found)")
    }

    @Test(arguments: ["10.0.2.0/31", "10.0.2.1/32", "10.0.2.0", "10.0.2.0/33", "fd00::/64", "garbage"])
    func aGuestNetworkThatCannotHoldAGuestIsRefused(cidr: String) {
        let found = causes(pod: ["vmNetworkCIDR": .string(cidr)])
        #expect(found.map(\.field) == ["spec.networks[0].pod.vmNetworkCIDR"], "\(found)")
    }
}
