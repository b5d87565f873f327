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
            (#"{"dns-resolver": {"config": {}}, "interfaces": []}"#, "spec.desiredState.dns-resolver"),
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

    @Test func aVLANOfAnotherIDOrABondOfAnotherModeIsMadeAgain() throws {
        let links = [
            HostLink(name: "eth1", kind: nil, master: "bond0"), HostLink(name: "eth2", kind: nil, master: "bond0"),
            HostLink(name: "bond0", kind: "bond", ipv4: [.init(ip: IPv4Address("10.9.0.1")!, prefixLength: 24)], bondMode: "balance-rr"),
            HostLink(name: "eth1.10", kind: "vlan", ipv4: [.init(ip: IPv4Address("10.10.0.1")!, prefixLength: 24)], vlanBase: "eth1", vlanID: 10),
        ]
        let wanted = try desired(#"""
            {"interfaces": [
              {"name": "bond0", "type": "bond", "link-aggregation": {"mode": "active-backup"},
               "ipv4": {"enabled": true, "address": [{"ip": "10.9.0.1", "prefix-length": 24}]}},
              {"name": "eth1.10", "type": "vlan", "vlan": {"base-iface": "eth1", "id": 20}}
            ]}
            """#)
        #expect(HostNetworkPlan.differences(wanted, now: links) == ["bond0 has bond mode balance-rr", "eth1.10 has VLAN id 10"])
        let plan = try HostNetworkPlan.apply(wanted, to: links)
        #expect(Array(plan.ipCommands.prefix(4)) == [
            "link del bond0", "link del eth1.10", "link add bond0 type bond mode active-backup", "link add link eth1 name eth1.10 type vlan id 20",
        ])
        // The bond takes its ports back (the policy does not list them) and its address; the vlan keeps
        // the address the policy does not mention.
        #expect(plan.ipCommands.contains("link set eth1 master bond0") && plan.ipCommands.contains("link set eth2 master bond0"))
        #expect(plan.ipCommands.contains("addr add 10.9.0.1/24 dev bond0"))
        #expect(plan.ipCommands.contains("addr add 10.10.0.1/24 dev eth1.10"))
        #expect(plan.ipCommands.contains("link set eth1.10 mtu 1500"))
        #expect(plan.touched.isSuperset(of: ["bond0", "eth1.10", "eth1", "eth2"]))

        // Rolled back: both are made again as they were, with their ports and addresses.
        var now = links
        now[2].bondMode = "active-backup"
        now[2].ipv4 = []
        now[3].vlanID = 20
        now[3].ipv4 = []
        let back = HostNetworkPlan.rollback(to: links, touched: plan.touched, now: now)
        #expect(Array(back.prefix(4)) == [
            "link del bond0", "link del eth1.10", "link add bond0 type bond mode balance-rr", "link add link eth1 name eth1.10 type vlan id 10",
        ])
        #expect(back.contains("link set eth1 master bond0") && back.contains("addr add 10.10.0.1/24 dev eth1.10"))
        #expect(HostNetworkPlan.rollback(to: links, touched: plan.touched, now: links).allSatisfy { $0.hasSuffix(" up") })

        // A bond with a vlan on it, or in a bridge, is not made again behind the policy's back.
        var stacked = links
        stacked.append(HostLink(name: "bond0.5", kind: "vlan", vlanBase: "bond0", vlanID: 5))
        stacked[2].master = "br0"
        #expect {
            try HostNetworkPlan.apply(wanted, to: stacked)
        } throws: { error in
            let message = (error as? VirtError)?.message ?? ""
            return message.contains("interface bond0: the kernel cannot change its bond mode in place")
                && message.contains("the vlan bond0.5 on it and its membership of br0")
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

    static let routeOutput = #"""
    [{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},
     {"dst":"10.244.0.0/24","dev":"swiftvirt0","protocol":"kernel","scope":"link","prefsrc":"10.244.0.1","flags":[]},
     {"dst":"198.51.100.0/24","gateway":"192.168.90.254","dev":"br1","protocol":"static","metric":150,"flags":[]},
     {"dst":"203.0.113.0/24","gateway":"192.168.90.254","dev":"br1","table":"100","flags":[]},
     {"type":"local","dst":"10.244.0.1","dev":"swiftvirt0","table":"local","protocol":"kernel","scope":"host","flags":[]},
     {"type":"broadcast","dst":"10.244.0.255","dev":"swiftvirt0","table":"local","protocol":"kernel","scope":"link","flags":[]}]
    """#

    static let routePolicy = #"""
    {"interfaces": [{"name": "br1", "type": "linux-bridge", "state": "up"}],
     "routes": {"config": [
       {"destination": "192.0.2.128/25", "next-hop-address": "192.168.90.254", "next-hop-interface": "br1", "metric": 50},
       {"destination": "198.51.100.0/24", "next-hop-address": "192.168.90.254", "next-hop-interface": "br1"},
       {"destination": "203.0.113.0/24", "table-id": 100, "state": "absent"},
       {"destination": "0.0.0.0/0", "next-hop-address": "192.168.90.1", "next-hop-interface": "br1", "table-id": 200}
     ]}}
    """#

    @Test func routesAreAddedRemovedAndUndone() throws {
        let state = try JSONValue.parse(Array(Self.routePolicy.utf8))
        let routes = try NMStateRoute.routes(desiredState: state)
        #expect(try NMStateInterface.interfaces(desiredState: state).map(\.name) == ["br1"])
        #expect(routes.count == 4 && routes[2].absent && routes[3].table == 200)
        let current = try HostRoute.parse(Array(Self.routeOutput.utf8))
        #expect(current.count == 4, "local and broadcast routes are not the node's routes to configure")
        #expect(current[3].table == 100 && current[2].metric == 150 && current[0].destination.prefixLength == 0)

        let plan = HostNetworkPlan.routes(routes, current: current)
        // The second route is there already (any metric); the third is deleted as the node has it.
        #expect(plan.apply == [
            "route add 192.0.2.128/25 via 192.168.90.254 dev br1 metric 50",
            "route del 203.0.113.0/24 via 192.168.90.254 dev br1 table 100",
            "route add default via 192.168.90.1 dev br1 table 200",
        ])
        #expect(plan.undo == [
            "route del default via 192.168.90.1 dev br1 table 200",
            "route add 203.0.113.0/24 via 192.168.90.254 dev br1 table 100",
            "route del 192.0.2.128/25 via 192.168.90.254 dev br1 metric 50",
        ])
        #expect(HostNetworkPlan.routeDifferences(routes, now: current) == [
            "route 192.0.2.128/25 via 192.168.90.254 dev br1 metric 50 is missing",
            "route 203.0.113.0/24 table 100 still exists",
            "route default via 192.168.90.1 dev br1 table 200 is missing",
        ])
        // A route that went with an interface the policy touched comes back; the kernel's do by themselves.
        let lost = HostNetworkPlan.lostRoutes(snapshot: current, now: [current[0]], touched: ["br1", "swiftvirt0"])
        #expect(lost == ["route add 198.51.100.0/24 via 192.168.90.254 dev br1 metric 150", "route add 203.0.113.0/24 via 192.168.90.254 dev br1 table 100"])
        let shown = HostRoute.currentState(current)
        #expect(shown["running"]?.arrayValue?.count == 4 && shown["config"]?.arrayValue?.count == 3)
    }

    @Test func routeErrorsNameTheField() throws {
        let cases: [(String, String)] = [
            (#"{"routes": {"config": [{"next-hop-interface": "br1"}]}}"#, "spec.desiredState.routes.config[0].destination: Required value"),
            (#"{"routes": {"config": [{"destination": "10.1.2.3/24", "next-hop-interface": "br1"}]}}"#, "routes.config[0].destination: Invalid value"),
            (#"{"routes": {"config": [{"destination": "2001:db8::/64", "next-hop-interface": "br1"}]}}"#, "IPv6 routes are not configured yet"),
            (#"{"routes": {"config": [{"destination": "10.1.0.0/16"}]}}"#, "routes.config[0].next-hop-interface: Required value"),
            (#"{"routes": {"config": [{"destination": "10.1.0.0/16", "next-hop-interface": "br1", "next-hop-address": "x"}]}}"#, "next-hop-address: Invalid value"),
            (#"{"routes": {"config": [{"destination": "10.1.0.0/16", "next-hop-interface": "br1", "table-id": 255}]}}"#, "table-id: Invalid value"),
            (#"{"routes": {"config": [{"destination": "10.1.0.0/16", "next-hop-interface": "br1", "weight": 3}]}}"#, "routes.config[0].weight: Unsupported value"),
            (#"{"routes": {"config": [{"destination": "10.1.0.0/16", "next-hop-interface": "br1\nlink del eth0"}]}}"#, "next-hop-interface: Invalid value"),
            (#"{"routes": {"running": []}}"#, "routes.running: Unsupported value"),
            (#"{"dns-resolver": {}}"#, "spec.desiredState.dns-resolver: Unsupported value"),
        ]
        for (text, words) in cases {
            #expect {
                let state = try JSONValue.parse(Array(text.utf8))
                _ = try NMStateInterface.interfaces(desiredState: state)
                _ = try NMStateRoute.routes(desiredState: state)
            } throws: { error in
                ((error as? VirtError)?.message ?? "").contains(words)
            }
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
            if let routes = try? NMStateRoute.routes(desiredState: value) {
                _ = HostNetworkPlan.routes(routes, current: (try? HostRoute.parse(Array(Self.routeOutput.utf8))) ?? [])
            }
            _ = try? HostRoute.parse(value.serializedBytes())
            _ = try? HostRoute.parse(fuzzer.mutate(Array(Self.routeOutput.utf8)))
            _ = try? NMStateRoute.routes(desiredState: try? JSONValue.parse(fuzzer.mutate(Array(Self.routePolicy.utf8))))
            _ = try? HostLink.parse(value.serializedBytes())
            _ = try? HostLink.parse(fuzzer.mutate(Array(Self.ipOutput.utf8)))
            _ = try? NMStateInterface.interfaces(desiredState: try? JSONValue.parse(fuzzer.mutate(Array(Self.bridgePolicy.utf8))))
        }
    }
}
