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
}
