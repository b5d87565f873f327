import Testing
import VirtAPI
import VirtClient
import VirtError
import VirtControllers
import VirtReconcile
import VirtTestSupport

@Suite struct NodeIPAMControllerTests {
    let client = FakeAPIClient()
    let nodes = ObjectCache()

    func node(_ name: String, podCIDR: String? = nil) -> JSONValue {
        var node: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)], "spec": [:]]
        if let podCIDR { node["spec"] = ["podCIDR": .string(podCIDR), "podCIDRs": [.string(podCIDR)]] }
        return node
    }

    func reconcile(_ name: String, _ configuration: NodeIPAMController.Configuration = .init()) async throws {
        nodes.replace(with: client.objects(KubeVirt.nodes))
        let controller = NodeIPAMController(client: client, nodes: nodes, configuration: configuration, logger: quietLogger)
        _ = try await controller.reconcile(ObjectKey(namespace: nil, name: name))
        nodes.replace(with: client.objects(KubeVirt.nodes))
    }

    func podCIDR(_ name: String) -> JSONValue? { client.object(KubeVirt.nodes.named(name))?[path: ["spec", "podCIDR"]] }

    @Test func eachNodeGetsTheFirstFreeSubnetOnceAndKeepsIt() async throws {
        client.seed(KubeVirt.nodes, node("a"))
        client.seed(KubeVirt.nodes, node("b", podCIDR: "10.244.0.0/24"))
        client.seed(KubeVirt.nodes, node("c"))
        try await reconcile("a")
        #expect(podCIDR("a") == "10.244.1.0/24")
        #expect(client.object(KubeVirt.nodes.named("a"))?[path: ["spec", "podCIDRs"]] == ["10.244.1.0/24"])
        try await reconcile("c")
        #expect(podCIDR("c") == "10.244.2.0/24")
        // Already set: left as it is, even when it lies outside the range.
        try await reconcile("b")
        #expect(podCIDR("b") == "10.244.0.0/24")
        try await reconcile("a")
        #expect(podCIDR("a") == "10.244.1.0/24")
    }

    @Test func aForeignSubnetThatOverlapsIsNotHandedOutAgain() async throws {
        client.seed(KubeVirt.nodes, node("big", podCIDR: "10.244.0.0/23"))
        client.seed(KubeVirt.nodes, node("new"))
        try await reconcile("new")
        #expect(podCIDR("new") == "10.244.2.0/24")
    }

    @Test func aFullRangeSaysWhatToChange() async throws {
        let small = NodeIPAMController.Configuration(clusterCIDR: try IPv4CIDR(parsing: "10.9.0.0/24"), nodeMaskSize: 25)
        for name in ["a", "b", "c"] { client.seed(KubeVirt.nodes, node(name)) }
        try await reconcile("a", small)
        try await reconcile("b", small)
        #expect(podCIDR("b") == "10.9.0.128/25")
        await #expect {
            try await reconcile("c", small)
        } throws: { error in
            error is TerminalError && "\(error)".contains("--cluster-cidr")
        }
        #expect(podCIDR("c") == nil)
    }
}

@Suite struct IPv4CIDRTests {
    @Test func parsesAndRefusesWhatIsNotACIDR() throws {
        let cidr = try IPv4CIDR(parsing: "10.0.2.7/24")
        #expect(cidr.description == "10.0.2.0/24")
        #expect(cidr.netmask.description == "255.255.255.0")
        #expect(cidr.address(at: 1)?.description == "10.0.2.1")
        #expect(cidr.address(at: 256) == nil)
        #expect(cidr.contains(IPv4Address("10.0.2.255")!))
        #expect(!cidr.contains(IPv4Address("10.0.3.0")!))
        #expect(try IPv4CIDR(parsing: "0.0.0.0/0").size == 1 << 32)
        #expect(throws: VirtError.self) { try IPv4CIDR(parsing: "10.0.2.7/24", strict: true) }
        for bad in ["10.0.2.0", "10.0.2.0/33", "10.0.2/24", "256.0.0.0/8", "10.0.2.0/-1", "01.0.0.0/8", "10.0.2.0/+8", "+1.0.0.0/8", "a.b.c.d/8", "/", ""] {
            #expect(throws: VirtError.self, "\(bad)") { try IPv4CIDR(parsing: bad) }
        }
    }

    @Test func subnetsTileTheNetwork() throws {
        let cidr = try IPv4CIDR(parsing: "10.244.0.0/16")
        #expect(cidr.subnet(0, prefixLength: 24)?.description == "10.244.0.0/24")
        #expect(cidr.subnet(255, prefixLength: 24)?.description == "10.244.255.0/24")
        #expect(cidr.subnet(256, prefixLength: 24) == nil)
        #expect(cidr.subnet(0, prefixLength: 8) == nil)
        #expect(try IPv4CIDR(parsing: "10.244.1.0/24").overlaps(cidr))
    }
}
