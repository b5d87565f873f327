import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// The EndpointSlice of a Service follows the pods its selector picks (ready while they run), and of two
/// Services offered the same cluster IP or node port the younger moves.
@Suite struct ServiceEndpointsControllerTests {
    let client = FakeAPIClient()
    let services = ObjectCache()
    let pods = ObjectCache()
    let servicesPath = ResourcePath.core("services", namespace: "default")
    let slicePath = ServiceEndpointsController.slices.inNamespace("default")

    func service(_ name: String, selector: JSONValue = ["app": "web"], clusterIP: String = "10.96.0.10", created: String = "2026-12-01T00:00:00Z",
                 nodePort: Int? = nil) -> JSONValue {
        var port: JSONValue = ["name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"]
        if let nodePort { port["nodePort"] = .int(Int64(nodePort)) }
        return ["apiVersion": "v1", "kind": "Service",
                "metadata": ["name": .string(name), "namespace": "default", "uid": .string("uid-\(name)"), "creationTimestamp": .string(created)],
                "spec": ["type": nodePort == nil ? "ClusterIP" : "NodePort", "selector": selector, "clusterIP": .string(clusterIP),
                         "clusterIPs": [.string(clusterIP)], "ports": [port]]]
    }

    func pod(_ name: String, ip: String?, phase: String = "Running", labels: JSONValue = ["app": "web"]) -> JSONValue {
        var status: JSONValue = ["phase": .string(phase)]
        if let ip { status["podIP"] = .string(ip) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default", "uid": .string("p-\(name)"), "labels": labels],
                "spec": ["nodeName": "node-a"], "status": status]
    }

    func reconcile(_ name: String) async throws {
        services.replace(with: client.objects(ServiceEndpointsController.services))
        pods.replace(with: client.objects(KubeVirt.pods))
        let controller = ServiceEndpointsController(client: client, services: services, pods: pods, logger: quietLogger)
        _ = try await controller.reconcile(ObjectKey(namespace: "default", name: name))
    }

    @Test func theSliceHoldsThePickedPodsWithAddresses() async throws {
        client.seed(servicesPath, service("web"))
        client.seed(KubeVirt.pods.inNamespace("default"), pod("b", ip: "10.244.0.6", phase: "Pending"))
        client.seed(KubeVirt.pods.inNamespace("default"), pod("a", ip: "10.244.0.5"))
        client.seed(KubeVirt.pods.inNamespace("default"), pod("no-ip", ip: nil))
        client.seed(KubeVirt.pods.inNamespace("default"), pod("other", ip: "10.244.0.7", labels: ["app": "db"]))
        try await reconcile("web")
        let slice = try #require(client.object(slicePath.named("web")))
        #expect(slice[path: ["metadata", "labels", "kubernetes.io/service-name"]] == "web")
        #expect(slice[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"] == "uid-web")
        #expect(slice["addressType"] == "IPv4")
        #expect(slice["ports"] == [["name": "http", "port": 8080, "protocol": "TCP"]])
        let endpoints = slice["endpoints"]?.arrayValue ?? []
        #expect(endpoints.map { $0["addresses"] } == [["10.244.0.5"], ["10.244.0.6"]])
        #expect(endpoints.map { $0[path: ["conditions", "ready"]] } == [true, false])
        #expect(endpoints.first?[path: ["targetRef", "name"]] == "a")

        // The pod goes: so does its endpoint.
        _ = try await client.delete(KubeVirt.pods.inNamespace("default").named("a"), propagationPolicy: nil, gracePeriodSeconds: nil)
        try await reconcile("web")
        #expect(client.object(slicePath.named("web"))?["endpoints"]?.arrayValue?.count == 1)
    }

    @Test func aNamedTargetPortIsTheContainerPortOfThatName() async throws {
        var named = service("web")
        named[path: ["spec", "ports"]] = [["name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"]]
        client.seed(servicesPath, named)
        func withPorts(_ pod: JSONValue, _ ports: JSONValue) -> JSONValue {
            var pod = pod
            pod[path: ["spec", "containers"]] = [["name": "compute", "ports": ports]]
            return pod
        }
        client.seed(KubeVirt.pods.inNamespace("default"), withPorts(pod("a", ip: "10.244.0.5"), [["name": "web", "containerPort": 8081, "protocol": "TCP"]]))
        client.seed(KubeVirt.pods.inNamespace("default"), withPorts(pod("b", ip: "10.244.0.6"), [["name": "web", "containerPort": 8081]]))
        client.seed(KubeVirt.pods.inNamespace("default"), withPorts(pod("c", ip: "10.244.0.7"), [["name": "web", "containerPort": 8081, "protocol": "UDP"]]))
        client.seed(KubeVirt.pods.inNamespace("default"), pod("d", ip: "10.244.0.8"))
        try await reconcile("web")
        let slice = try #require(client.object(slicePath.named("web")))
        #expect(slice["ports"] == [["name": "http", "port": 8081, "protocol": "TCP"]])
        #expect((slice["endpoints"]?.arrayValue ?? []).map { $0["addresses"] } == [["10.244.0.5"], ["10.244.0.6"]])
        // The pods without that port are in a slice of their own, without the port.
        let all = client.objects(slicePath)
        #expect(all.count == 2)
        let other = try #require(all.first { $0.metadataName != "web" })
        #expect(other.metadataName?.hasPrefix("web-") == true && other["ports"] == [])
        #expect(other[path: ["metadata", "labels", "kubernetes.io/service-name"]] == "web")
        #expect((other["endpoints"]?.arrayValue ?? []).map { $0["addresses"] } == [["10.244.0.7"], ["10.244.0.8"]])

        // A numeric port next to a name no pod has: every pod keeps the numeric one.
        named[path: ["spec", "ports"]] = [["name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"],
                                         ["name": "metrics", "port": 9090, "targetPort": "nothing", "protocol": "TCP"]]
        _ = try await client.update(servicesPath.named("web"), body: named)
        try await reconcile("web")
        #expect(client.objects(slicePath).count == 1, "the slice of a mapping no pod has any more goes")
        #expect(client.object(slicePath.named("web"))?["ports"] == [["name": "http", "port": 8080, "protocol": "TCP"]])
        #expect(client.object(slicePath.named("web"))?["endpoints"]?.arrayValue?.count == 4)
    }

    @Test func aServiceWithoutASelectorIsLeftAlone() async throws {
        client.seed(servicesPath, service("manual", selector: [:]))
        try await reconcile("manual")
        #expect(client.object(slicePath.named("manual")) == nil)
    }

    @Test func theYoungerOfTwoClashingServicesMoves() async throws {
        client.seed(servicesPath, service("old", clusterIP: "10.96.0.10", created: "2026-12-01T00:00:00Z", nodePort: 30080))
        client.seed(servicesPath, service("new", clusterIP: "10.96.0.10", created: "2026-12-02T00:00:00Z", nodePort: 30080))
        try await reconcile("old")
        #expect(client.object(servicesPath.named("old"))?[path: ["spec", "clusterIP"]] == "10.96.0.10")
        try await reconcile("new")
        let moved = try #require(client.object(servicesPath.named("new")))
        let ip = moved[path: ["spec", "clusterIP"]]?.stringValue ?? ""
        #expect(ip != "10.96.0.10" && ip.hasPrefix("10.96."))
        #expect(moved[path: ["spec", "clusterIPs"]] == [.string(ip)])
        let port = moved[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"]?.intValue ?? 0
        #expect(port != 30080 && (30000...32767).contains(Int(port)))
    }
}
