import Testing
import VirtAPI
@testable import VirtNetwork

/// The node's Service table: each port of each Service with ready endpoints gets a chain that marks and
/// DNATs (one endpoint directly, more picked at random), jumped to from the cluster IP and the node port.
@Suite struct ServiceRulesTests {
    static let services: [JSONValue] = [
        ["metadata": ["name": "web", "namespace": "default"],
         "spec": ["type": "NodePort", "clusterIP": "10.96.0.10", "ports": [["name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080]]]],
        ["metadata": ["name": "dns", "namespace": "kube"],
         "spec": ["type": "ClusterIP", "clusterIP": "10.96.0.53", "ports": [["name": "", "port": 53, "protocol": "UDP"]]]],
        ["metadata": ["name": "empty", "namespace": "default"],
         "spec": ["type": "ClusterIP", "clusterIP": "10.96.0.99", "ports": [["port": 80, "protocol": "TCP"]]]],
    ]
    static let slices: [JSONValue] = [
        ["metadata": ["name": "web", "namespace": "default", "labels": ["kubernetes.io/service-name": "web"]],
         "ports": [["name": "http", "port": 8080, "protocol": "TCP"]],
         "endpoints": [["addresses": ["10.244.0.5"], "conditions": ["ready": true]], ["addresses": ["10.244.0.6"], "conditions": ["ready": true]],
                       ["addresses": ["10.244.0.7"], "conditions": ["ready": false]]]],
        ["metadata": ["name": "dns", "namespace": "kube", "labels": ["kubernetes.io/service-name": "dns"]],
         "ports": [["name": "", "port": 5353, "protocol": "UDP"]], "endpoints": [["addresses": ["10.244.1.2"]]]],
    ]

    @Test func readyEndpointsBehindEachPort() {
        let entries = ServiceRules.entries(services: Self.services, slices: Self.slices)
        let web = entries.first { $0.service == "default/web" }
        #expect(web?.ports.first?.nodePort == 30080)
        #expect(web?.ports.first?.endpoints.map { "\($0.address):\($0.port)" } == ["10.244.0.5:8080", "10.244.0.6:8080"])
        #expect(entries.first { $0.service == "kube/dns" }?.ports.first?.endpoints.map { "\($0.address):\($0.port)" } == ["10.244.1.2:5353"])
        #expect(entries.first { $0.service == "default/empty" }?.ports.first?.endpoints.isEmpty == true)
    }

    @Test func theRulesetReplacesTheTable() {
        let rules = ServiceRules(table: ServiceRules.tableName(node: "node-a"), entries: ServiceRules.entries(services: Self.services, slices: Self.slices))
        let text = rules.ruleset
        #expect(rules.table == "swiftvirt_services_node_a")
        #expect(text.hasPrefix("table ip swiftvirt_services_node_a\ndelete table ip swiftvirt_services_node_a\n"))
        #expect(text.contains("ip daddr 10.96.0.10 tcp dport 80 jump svc-0 comment \"default/web 80/tcp\""))
        #expect(text.contains("fib daddr type local tcp dport 30080 jump svc-0"))
        #expect(text.contains("meta l4proto tcp dnat to numgen random mod 2 map { 0 : 10.244.0.5 . 8080, 1 : 10.244.0.6 . 8080 }"))
        #expect(text.contains("ip daddr 10.96.0.53 udp dport 53 jump svc-1"))
        #expect(text.contains("meta l4proto udp dnat to 10.244.1.2:5353"))
        #expect(!text.contains("ip daddr 10.96.0.99 tcp dport 80 jump"), "a Service without endpoints is carried nowhere")
        #expect(text.contains("ip daddr 10.96.0.99 tcp dport 80 reject comment \"default/empty 80/tcp\""), "but refused")
        #expect(text.contains("type filter hook forward priority -10; policy accept;"))
        let none = ServiceRules(table: "t", entries: ServiceRules.entries(services: [Self.services[0]], slices: Self.slices)).ruleset
        #expect(!none.contains("no-endpoints"), "no filter chains while every port has endpoints")
        #expect(text.contains("ct mark 0x00005356 masquerade"))
    }

    @Test func clientIPAffinityKeepsAClientOnItsEndpoint() throws {
        var web = Self.services[0]
        web[path: ["spec", "sessionAffinity"]] = "ClientIP"
        web[path: ["spec", "sessionAffinityConfig"]] = ["clientIP": ["timeoutSeconds": 600]]
        let entries = ServiceRules.entries(services: [web], slices: Self.slices)
        #expect(entries.first?.ports.first?.affinitySeconds == 600)
        let rules = ServiceRules(table: "t", entries: entries)
        let text = rules.ruleset
        let sets = rules.render().sets
        #expect(sets.count == 2 && sets.allSatisfy { $0.hasPrefix("client-") })
        #expect(text.contains("set \(sets[0]) {\n        type ipv4_addr; flags dynamic,timeout; timeout 600s;\n    }"))
        #expect(text.contains("ip saddr @\(sets[1]) goto svc-0-to-1"))
        #expect(text.contains("numgen random mod 2 vmap { 0 : goto svc-0-to-0, 1 : goto svc-0-to-1 }"))
        #expect(text.contains("    chain svc-0-to-1 {\n        update @\(sets[1]) { ip saddr }\n        meta l4proto tcp dnat to 10.244.0.6:8080\n    }"))
        // The remembered clients are looked up before a new endpoint is drawn.
        let lookup = try #require(text.range(of: "ip saddr @\(sets[0])"))
        #expect(lookup.lowerBound < text.range(of: "numgen random mod 2 vmap")!.lowerBound)
        #expect(ServiceRules.entries(services: Self.services, slices: Self.slices).allSatisfy { $0.ports.allSatisfy { $0.affinitySeconds == nil } })

        // Another Service comes, one endpoint goes: the table is changed, not replaced; the set of the
        // endpoint that stays keeps its name (and its clients), the other's is deleted.
        var slice = Self.slices[0]
        slice["endpoints"] = [["addresses": ["10.244.0.5"], "conditions": ["ready": true]]]
        let next = ServiceRules(table: "t", entries: ServiceRules.entries(services: [web, Self.services[1]], slices: [slice, Self.slices[1]]))
        let change = next.ruleset(after: rules)
        #expect(change.hasPrefix("table ip t\nflush table ip t\n"))
        #expect(!change.contains("delete table"))
        let kept = next.render().sets
        #expect(kept.count == 1 && sets.contains(kept[0]))
        #expect(change.contains("delete set ip t \(sets.first { $0 != kept[0] }!)"))
        #expect(change.contains("delete chain ip t svc-0-to-1"))
        #expect(!change.contains("delete chain ip t svc-0\n"))
    }

    @Test func localTrafficPoliciesTakeThisNodesEndpointsOnly() {
        var web = Self.services[0]
        web[path: ["spec", "externalTrafficPolicy"]] = "Local"
        var slice = Self.slices[0]
        slice["endpoints"] = [["addresses": ["10.244.0.5"], "nodeName": "node-a"], ["addresses": ["10.244.1.5"], "nodeName": "node-b"],
                              ["addresses": ["192.0.2.9"]]]
        func rules(_ service: JSONValue, node: String) -> String {
            ServiceRules(table: "t", entries: ServiceRules.entries(services: [service], slices: [slice], node: node), podBridge: "swiftvirt0").ruleset
        }
        let text = rules(web, node: "node-a")
        // The cluster IP reaches every endpoint, masqueraded; the node port from outside only node-a's,
        // keeping the client's address; the node and its pods go by the cluster chain. An endpoint that
        // names no node is nobody's local one.
        #expect(text.contains("ip daddr 10.96.0.10 tcp dport 80 jump svc-0"))
        #expect(text.contains("numgen random mod 3 map { 0 : 10.244.0.5 . 8080, 1 : 10.244.1.5 . 8080, 2 : 192.0.2.9 . 8080 }"))
        #expect(text.contains("fib daddr type local tcp dport 30080 jump svc-1"))
        #expect(text.contains("""
                chain svc-1 {
                    fib saddr type local goto svc-0
                    iifname "swiftvirt0" goto svc-0
                    meta l4proto tcp dnat to 10.244.0.5:8080
                }
            """))
        #expect(text.contains("iifname != \"lo\" ip daddr 127.0.0.0/8 ct state new,invalid ct status & dnat == 0 drop"),
                "route_localnet lets nothing but node ports reach the loopback")
        #expect(ServiceRules.localnetSysctl(bridge: "swiftvirt0") == "net/ipv4/conf/swiftvirt0/route_localnet")

        // No local endpoint: outside clients of the node port are dropped (as upstream), the cluster IP still carries.
        let elsewhere = rules(web, node: "node-c")
        #expect(elsewhere.contains("    chain svc-1 {\n        fib saddr type local goto svc-0\n        iifname \"swiftvirt0\" goto svc-0\n        drop\n    }"))
        #expect(elsewhere.contains("ip daddr 10.96.0.10 tcp dport 80 jump svc-0"))
        #expect(!elsewhere.contains("reject"))

        var inward = Self.services[0]
        inward[path: ["spec", "internalTrafficPolicy"]] = "Local"
        let inside = rules(inward, node: "node-b")
        #expect(inside.contains("    chain svc-0 {\n        ct mark set 0x00005356\n        meta l4proto tcp dnat to 10.244.1.5:8080\n    }"))
        #expect(inside.contains("fib daddr type local tcp dport 30080 jump svc-1"), "the node port takes every endpoint, in a chain of its own")
        #expect(rules(inward, node: "node-c").contains("    chain svc-0 {\n        ct mark set 0x00005356\n        drop\n    }"))
    }
}
