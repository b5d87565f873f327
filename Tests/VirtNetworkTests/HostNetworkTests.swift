import Testing
import VirtAPI
import VirtError
import VirtTestSupport
@testable import VirtNetwork

/// nmstate policies on the node: the desiredState read with errors naming the field, the links read from
/// `ip -j -d addr show`, the `ip` lines that apply a policy, those that put the node back, and the check
/// that the node took it. Both readers take random and mutated input without trapping.
@Suite struct HostNetworkTests {
    static let bridgePolicy = #"""
    {"interfaces": [
      {"name": "br1", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": true, "address": [{"ip": "192.168.90.1", "prefix-length": 24}]},
       "bridge": {"options": {"stp": {"enabled": false}}, "port": [{"name": "veth-a"}]}},
      {"name": "veth-a", "type": "veth", "state": "up", "mtu": 1400}
    ]}
    """#

    static let ipOutput = #"""
    [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback",
      "address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
     {"ifindex":5,"ifname":"veth-a","flags":["BROADCAST","MULTICAST"],"mtu":1500,"link_type":"ether","address":"AA:BB:CC:00:00:01",
      "master":"old-br","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge"},"addr_info":[]},
     {"ifindex":6,"ifname":"old-br","flags":["BROADCAST","UP"],"mtu":1500,"link_type":"ether","address":"aa:bb:cc:00:00:02",
      "linkinfo":{"info_kind":"bridge"},"addr_info":[{"family":"inet","local":"10.1.0.1","prefixlen":16},{"family":"inet6","local":"fe80::1","prefixlen":64}]},
     {"ifindex":7,"ifname":"v10","flags":["UP"],"mtu":1500,"link":"old-br","link_type":"ether","linkinfo":{"info_kind":"vlan","info_data":{"protocol":"802.1Q","id":10}}}]
    """#

    func desired(_ text: String) throws -> [NMStateInterface] {
        try NMStateInterface.interfaces(desiredState: try JSONValue.parse(Array(text.utf8)))
    }

    @Test func aBridgePolicyIsRead() throws {
        let interfaces = try desired(Self.bridgePolicy)
        #expect(interfaces.map(\.name) == ["br1", "veth-a"])
        #expect(interfaces[0].type == .linuxBridge && interfaces[0].stp == false)
        #expect(interfaces[0].ports == [.init(name: "veth-a", vlan: nil)])
        #expect(interfaces[0].ipv4Addresses == [.init(ip: IPv4Address("192.168.90.1")!, prefixLength: 24)])
        #expect(interfaces[1].mtu == 1400 && interfaces[1].ipv4Enabled == nil)
    }

    @Test func errorsNameTheField() throws {
        let cases: [(String, String)] = [
            (#"{"interfaces": [{"name": "x", "type": "ovs-bridge"}]}"#, "spec.desiredState.interfaces[0].type: Unsupported value"),
            (#"{"interfaces": [{"name": "x", "type": "dummy", "state": "gone"}]}"#, "spec.desiredState.interfaces[0].state"),
            (#"{"interfaces": [{"name": "x", "type": "dummy", "ipv4": {"enabled": true, "dhcp": true}}]}"#, "spec.desiredState.interfaces[0].ipv4.dhcp"),
            (#"{"interfaces": [{"name": "x", "type": "dummy", "ipv4": {"enabled": true, "address": [{"ip": "300.1.1.1", "prefix-length": 24}]}}]}"#,
             "spec.desiredState.interfaces[0].ipv4.address[0].ip"),
            (#"{"interfaces": [{"name": "x", "type": "dummy"}, {"name": "x", "type": "dummy"}]}"#, "spec.desiredState.interfaces[1].name: Duplicate"),
            (#"{"interfaces": [{"name": "averyveryverylongname", "type": "dummy"}]}"#, "spec.desiredState.interfaces[0].name"),
            (#"{"interfaces": [{"name": "v", "type": "vlan", "vlan": {"base-iface": "eth0", "id": 5000}}]}"#, "spec.desiredState.interfaces[0].vlan.id"),
            (#"{"interfaces": [{"name": "b", "type": "linux-bridge", "bridge": {"port": [{"name": "p", "vlan": {"mode": "trunk"}}]}}]}"#,
             "spec.desiredState.interfaces[0].bridge.port[0].vlan.trunk-tags"),
            (#"{"routes": {"config": []}, "interfaces": []}"#, "spec.desiredState.routes"),
            (#"{"interfaces": [{"name": "x", "type": "dummy", "ipv6": {"enabled": true}}]}"#, "spec.desiredState.interfaces[0].ipv6"),
        ]
        for (text, prefix) in cases {
            #expect {
                try desired(text)
            } throws: { error in
                (error as? VirtError)?.message.hasPrefix(prefix) == true
            }
        }
        #expect(throws: VirtError.self) { try NMStateInterface.interfaces(desiredState: nil) }
    }

    @Test func linksAreReadFromIP() throws {
        let links = try HostLink.parse(Array(Self.ipOutput.utf8))
        #expect(links.map(\.name) == ["lo", "veth-a", "old-br", "v10"])
        #expect(links[0].nmstateType == "loopback" && links[0].up)
        #expect(links[1].kind == "veth" && links[1].master == "old-br" && !links[1].up && links[1].mac == "aa:bb:cc:00:00:01")
        #expect(links[2].ipv4 == [.init(ip: IPv4Address("10.1.0.1")!, prefixLength: 16)])
        #expect(links[3].vlanBase == "old-br" && links[3].vlanID == 10)
        let state = HostLink.currentState(links)
        let bridge = state["interfaces"]?.arrayValue?.first { $0["name"] == "old-br" }
        #expect(bridge?["type"] == "linux-bridge")
        #expect(bridge?[path: ["bridge", "port"]] == [["name": "veth-a"]])
        #expect(bridge?["mac-address"] == "AA:BB:CC:00:00:02")
        #expect(throws: VirtError.self) { try HostLink.parse(Array(#"[{"mtu": 1}]"#.utf8)) }
    }

    @Test func applyMakesTheBridgeMovesThePortAndSetsTheAddress() throws {
        let links = try HostLink.parse(Array(Self.ipOutput.utf8))
        let plan = try HostNetworkPlan.apply(try desired(Self.bridgePolicy), to: links)
        #expect(plan.ipCommands == [
            "link add br1 type bridge",
            "link set br1 type bridge stp_state 0",
            "link set veth-a master br1",
            "link set veth-a up",
            "addr add 192.168.90.1/24 dev br1",
            "link set br1 up",
            "link set veth-a mtu 1400",
            "link set veth-a up",
        ])
        #expect(plan.bridgeCommands == [])
        #expect(plan.touched == ["br1", "veth-a"])

        // Back: the port returns to its old bridge, down, at its old MTU; the new bridge goes.
        var after = links
        after[1].master = "br1"
        after[1].up = true
        after[1].mtu = 1400
        after.append(HostLink(name: "br1", kind: "bridge", ipv4: [.init(ip: IPv4Address("192.168.90.1")!, prefixLength: 24)]))
        #expect(HostNetworkPlan.rollback(to: links, touched: plan.touched, now: after) == [
            "link set veth-a master old-br",
            "link set veth-a mtu 1500",
            "link set veth-a down",
            "link del br1",
        ])
        #expect(HostNetworkPlan.differences(try desired(Self.bridgePolicy), now: after) == [])
        #expect(HostNetworkPlan.differences(try desired(Self.bridgePolicy), now: links) == ["br1 does not exist", "veth-a is down", "veth-a has MTU 1500"])
    }

    @Test func enabledWithoutAddressesKeepsThemAndNamesAreChecked() throws {
        let links = try HostLink.parse(Array(Self.ipOutput.utf8))
        let keep = try desired(#"{"interfaces": [{"name": "old-br", "type": "linux-bridge", "ipv4": {"enabled": true}}]}"#)
        #expect(keep[0].ipv4Addresses == nil)
        #expect(try HostNetworkPlan.apply(keep, to: links).ipCommands == ["link set old-br up"])
        #expect(HostNetworkPlan.differences(keep, now: links) == [])
        for bad in [#"{"interfaces": [{"name": "br\nnetns add x", "type": "dummy"}]}"#,
                    #"{"interfaces": [{"name": "b", "type": "linux-bridge", "bridge": {"port": [{"name": "p q"}]}}]}"#,
                    #"{"interfaces": [{"name": "b", "type": "bond", "link-aggregation": {"mode": "fast\nnetns add x"}}]}"#] {
            #expect(throws: VirtError.self) { try desired(bad) }
        }
    }

    @Test func removingAnAddressIsRolledBack() throws {
        let links = try HostLink.parse(Array(Self.ipOutput.utf8))
        let policy = try desired(#"{"interfaces": [{"name": "old-br", "type": "linux-bridge", "ipv4": {"enabled": false}}]}"#)
        let plan = try HostNetworkPlan.apply(policy, to: links)
        #expect(plan.ipCommands == ["addr del 10.1.0.1/16 dev old-br", "link set old-br up"])
        var after = links
        after[2].ipv4 = []
        #expect(HostNetworkPlan.rollback(to: links, touched: plan.touched, now: after) == ["addr add 10.1.0.1/16 dev old-br", "link set old-br up"])
    }

    @Test func absentRemovesWhatWasMadeAndPortVLANsUseTheBridgeTool() throws {
        let links = try HostLink.parse(Array(Self.ipOutput.utf8))
        let absent = try HostNetworkPlan.apply(try desired(#"{"interfaces": [{"name": "old-br", "type": "linux-bridge", "state": "absent"}]}"#), to: links)
        #expect(absent.ipCommands == ["link set veth-a nomaster", "link del old-br"])
        let vlans = try HostNetworkPlan.apply(try desired(#"""
            {"interfaces": [{"name": "old-br", "type": "linux-bridge", "bridge": {"port": [
              {"name": "veth-a", "vlan": {"mode": "trunk", "tag": 5, "trunk-tags": [{"id": 101}, {"id-range": {"min": 200, "max": 299}}]}}]}}]}
            """#), to: links)
        #expect(vlans.ipCommands.contains("link set old-br type bridge vlan_filtering 1"))
        // veth-a is in old-br already: its VLAN 1 went at the first apply, so it is not deleted again.
        #expect(vlans.bridgeCommands == [
            "vlan add dev veth-a vid 101", "vlan add dev veth-a vid 200-299", "vlan add dev veth-a vid 5 pvid untagged",
        ])
        let joining = try HostNetworkPlan.apply(try desired(#"""
            {"interfaces": [{"name": "br9", "type": "linux-bridge", "bridge": {"port": [{"name": "veth-a", "vlan": {"mode": "access", "tag": 7}}]}}]}
            """#), to: links)
        #expect(joining.bridgeCommands == ["vlan del dev veth-a vid 1", "vlan add dev veth-a vid 7 pvid untagged"])
        #expect(throws: VirtError.self) {
            try HostNetworkPlan.apply(try desired(#"{"interfaces": [{"name": "eth9", "type": "ethernet"}]}"#), to: links)
        }
    }

    // MARK: - Fuzzing

    /// Random JSON of the shapes the readers look at, mixed with the seeds' values.
    static func randomJSON(_ fuzzer: inout Fuzzer, depth: Int = 0) -> JSONValue {
        let keys = ["name", "type", "state", "ipv4", "enabled", "address", "ip", "prefix-length", "bridge", "port", "vlan", "mode", "tag",
                    "trunk-tags", "id", "id-range", "min", "max", "mtu", "mac-address", "interfaces", "ifname", "flags", "addr_info", "family",
                    "local", "prefixlen", "linkinfo", "info_kind", "info_data", "master", "link", "options", "stp", "link-aggregation", "base-iface"]
        switch depth > 3 ? fuzzer.below(5) : fuzzer.below(7) {
        case 0: return .null
        case 1: return .bool(fuzzer.chance(50))
        case 2: return .int(Int64(fuzzer.pick([-1, 0, 1, 5, 24, 32, 33, 1500, 4094, 4095, 65536, Int(Int32.max)])))
        case 3: return .string(fuzzer.pick(["", "br1", "up", "absent", "linux-bridge", "vlan", "bond", "trunk", "access", "inet", "10.0.0.1", "x/y",
                                            "AA:BB:CC:DD:EE:FF", "averyveryverylongname", "UP"]))
        case 4: return .double(0.5)
        case 5: return .array((0..<fuzzer.below(4)).map { _ in randomJSON(&fuzzer, depth: depth + 1) })
        default:
            var object: [String: JSONValue] = [:]
            for _ in 0..<fuzzer.below(5) { object[fuzzer.pick(keys)] = randomJSON(&fuzzer, depth: depth + 1) }
            return .object(object)
        }
    }

    @Test func theReadersNeverTrap() throws {
        var fuzzer = Fuzzer(seed: 0x6E_5747_E5)
        let links = try HostLink.parse(Array(Self.ipOutput.utf8))
        for _ in 0..<4000 {
            let value: JSONValue = fuzzer.chance(30) ? ["interfaces": .array((0..<fuzzer.below(4)).map { _ in Self.randomJSON(&fuzzer, depth: 1) })]
                                                     : Self.randomJSON(&fuzzer)
            if let interfaces = try? NMStateInterface.interfaces(desiredState: value) {
                // What is read can be planned (or refused with an error) and checked.
                _ = try? HostNetworkPlan.apply(interfaces, to: links)
                _ = HostNetworkPlan.differences(interfaces, now: links)
            }
            _ = try? HostLink.parse(value.serializedBytes())
            _ = try? HostLink.parse(fuzzer.mutate(Array(Self.ipOutput.utf8)))
            _ = try? NMStateInterface.interfaces(desiredState: try? JSONValue.parse(fuzzer.mutate(Array(Self.bridgePolicy.utf8))))
        }
    }
}
