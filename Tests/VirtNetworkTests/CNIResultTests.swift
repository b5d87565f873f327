import Foundation
import Testing
import VirtAPI

@testable import VirtNetwork

/// Reading plugin results (1.0, and the 0.3.x/0.4.0 shape) and keeping them byte for byte.
@Suite struct CNIResultTests {
    /// What the Debian bridge plugin (1.1.1, host-local IPAM) printed for an ADD on this machine.
    static let bridgeResult = """
        {
            "cniVersion": "1.0.0",
            "interfaces": [
                {"name": "svtest0", "mac": "6a:41:f3:5d:8a:e0"},
                {"name": "veth6b7102b7", "mac": "c2:7f:a4:25:83:1a"},
                {"name": "eth0", "mac": "86:da:69:4e:dc:ef", "sandbox": "/tmp/cnispike/pod"}
            ],
            "ips": [{"interface": 2, "address": "10.250.0.2/24", "gateway": "10.250.0.1"}],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dns": {}
        }
        """

    @Test func theBridgePluginsResultReads() throws {
        let result = try CNIResult.parse(Array(Self.bridgeResult.utf8))
        #expect(result.cniVersion == "1.0.0")
        #expect(result.interfaces.map(\.name) == ["svtest0", "veth6b7102b7", "eth0"])
        #expect(result.interfaces[2] == .init(name: "eth0", mac: "86:da:69:4e:dc:ef", sandbox: "/tmp/cnispike/pod"))
        #expect(result.ips == [.init(address: "10.250.0.2/24", gateway: "10.250.0.1", interface: 2)])
        #expect(result.ips[0].host == "10.250.0.2")
        #expect(result.ips[0].prefixLength == 24)
        #expect(result.routes == [.init(dst: "0.0.0.0/0")])
        #expect(result.dns.isEmpty)
        #expect(result.interface(named: "eth0", inSandbox: "/tmp/cnispike/pod")?.mac == "86:da:69:4e:dc:ef")
        #expect(result.interface(named: "eth0", inSandbox: "/elsewhere") == nil)
        #expect(result.addresses(ofInterface: "eth0", inSandbox: "/tmp/cnispike/pod").map(\.address) == ["10.250.0.2/24"])
        #expect(result.addresses(ofInterface: "svtest0", inSandbox: "/tmp/cnispike/pod").isEmpty)
    }

    @Test func aResultRoundTripsWithTheFieldsTheRuntimeDoesNotRead() throws {
        let text = #"{"cniVersion":"1.0.0","interfaces":[{"name":"net1","mac":"02:00:00:00:00:01","mtu":1400,"sandbox":"/ns","socketPath":"/s","pciID":"0000:00:01.0"}],"ips":[{"address":"fd00::5/64","interface":0}],"routes":[{"dst":"::/0","gw":"fd00::1","mtu":1400,"advmss":1360,"priority":10,"table":100,"scope":0}],"dns":{"nameservers":["10.96.0.10"],"domain":"cluster.local","search":["default.svc.cluster.local"],"options":["ndots:5"]},"x-vendor":{"a":1}}"#
        let result = try CNIResult.parse(Array(text.utf8))
        #expect(result.serialized() == (try JSONValue.parse(text)).serialized())
        #expect(result.json["x-vendor"] == ["a": 1])
        #expect(result.interfaces[0].mtu == 1400)
        #expect(result.routes[0] == .init(dst: "::/0", gw: "fd00::1", mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 0))
        #expect(result.dns == .init(nameservers: ["10.96.0.10"], domain: "cluster.local", search: ["default.svc.cluster.local"], options: ["ndots:5"]))
        #expect(try CNIResult.parse(Array(result.serialized().utf8)) == result)
        #expect(try JSONDecoder().decode(CNIResult.self, from: JSONEncoder().encode(result)) == result)
    }

    @Test func a04And03ResultWithIPVersionsReads() throws {
        for version in ["0.3.0", "0.3.1", "0.4.0"] {
            let result = try CNIResult.parse(Array(#"{"cniVersion":"\#(version)","interfaces":[{"name":"eth0","sandbox":"/ns"}],"ips":[{"version":"4","address":"10.1.0.5/16","gateway":"10.1.0.1","interface":0}],"dns":{}}"#.utf8))
            #expect(result.cniVersion == version)
            #expect(result.addresses(ofInterface: "eth0", inSandbox: "/ns") == [.init(address: "10.1.0.5/16", gateway: "10.1.0.1", interface: 0)])
            #expect(result.json[path: ["ips"]]?.arrayValue?.first?["version"] == "4")  // kept for the next plugin
        }
    }

    @Test func anIPAMOnlyResultGivesAllItsAddressesToTheInterface() throws {
        let result = try CNIResult.parse(Array(#"{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5/16"}]}"#.utf8))
        #expect(result.addresses(ofInterface: "eth0", inSandbox: "/ns").map(\.address) == ["10.1.0.5/16"])
        #expect(result.interfaces.isEmpty && result.routes.isEmpty && result.dns.isEmpty)
    }

    @Test func resultsOfTheOldIP4ShapeAreRefused() {
        #expect(throws: CNIError.unsupportedVersion(version: "0.2.0", field: "the result's cniVersion", supported: CNIError.supportedVersions)) {
            try CNIResult.parse(Array(#"{"cniVersion":"0.2.0","ip4":{"ip":"10.1.0.5/16"}}"#.utf8))
        }
    }

    @Test(arguments: [
        (#"{"interfaces":[]}"#, "cniVersion is required"),
        (#"{"cniVersion":"1.0.0","interfaces":[{"mac":"x"}]}"#, "interfaces[0].name is required"),
        (#"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mtu":"1500"}]}"#, "interfaces[0].mtu must be an integer, not string"),
        (#"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mtu":1.5}]}"#, "interfaces[0].mtu must be an integer, not 1.5"),
        (#"{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5"}]}"#, #"ips[0].address "10.1.0.5" must be an address with a prefix length, like 10.1.0.5/24"#),
        (#"{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5/24","interface":-1}]}"#, "ips[0].interface must not be negative"),
        (#"{"cniVersion":"1.0.0","routes":[{"gw":"10.0.0.1"}]}"#, "routes[0].dst is required"),
        (#"{"cniVersion":"1.0.0","dns":{"nameservers":[1]}}"#, "dns.nameservers[0] must be a string, not number"),
        (#"{"cniVersion":"1.0.0","ips":{}}"#, "ips must be a list, not object"),
        (#"[]"#, "the document must be a JSON object, not array"),
        ("", "not JSON: malformed JSON at byte 0"),
    ])
    func aBrokenResultSaysWhatIsWrong(text: String, detail: String) throws {
        let error = try #require(throws: CNIError.self) { try CNIResult.parse(Array(text.utf8)) }
        guard case .badResult(nil, let got) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(got.hasPrefix(detail), "\(got)")
    }

    @Test func aResultBuiltFromPartsIsTheOneAPluginWouldPrint() throws {
        let result = CNIResult(interfaces: [.init(name: "eth0", mac: "02:00:00:00:00:01", mtu: 1450, sandbox: "/ns")],
                               ips: [.init(address: "10.244.0.2/24", gateway: "10.244.0.1", interface: 0)],
                               routes: [.init(dst: "0.0.0.0/0", gw: "10.244.0.1", priority: 5)],
                               dns: .init(nameservers: ["10.96.0.10"]))
        #expect(result.serialized() == #"{"cniVersion":"1.0.0","dns":{"nameservers":["10.96.0.10"]},"interfaces":[{"mac":"02:00:00:00:00:01","mtu":1450,"name":"eth0","sandbox":"/ns"}],"ips":[{"address":"10.244.0.2/24","gateway":"10.244.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.0.1","priority":5}]}"#)
        #expect(try CNIResult(json: result.json) == result)
    }
}
