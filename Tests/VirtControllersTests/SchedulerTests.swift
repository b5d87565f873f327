import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile

@Suite struct SchedulerFilterTests {
    func info(_ manifest: JSONValue, requested: ResourceAmounts = ResourceAmounts(), pods: Int = 0) throws -> NodeInfo {
        NodeInfo(node: try manifest.decoded(), requested: requested, podCount: pods)
    }

    func pod(_ manifest: JSONValue) throws -> Pod { try manifest.decoded() }

    @Test func memoryTooBigIsInsufficientMemory() throws {
        let pod = try pod(podManifest(name: "p", memory: "16Gi"))
        let result = SchedulerFilters.place(pod, request: PodResources.requests(of: pod), nodes: [try info(nodeManifest(name: "n1"))])
        #expect(result == .failure(.init(message: "0/1 nodes are available: 1 Insufficient memory.")))
    }

    @Test func usedResourcesCount() throws {
        let pod = try pod(podManifest(name: "p", memory: "3Gi"))
        let request = PodResources.requests(of: pod)
        var used = ResourceAmounts()
        used["memory"] = Int64(6) << 30 * 1000
        #expect(SchedulerFilters.resources(pod, request, try info(nodeManifest(name: "n1"), requested: used)) == ["Insufficient memory"])
        #expect(SchedulerFilters.resources(pod, request, try info(nodeManifest(name: "n1"))) == [])
        var cpuHeavy = ResourceAmounts()
        cpuHeavy["cpu"] = 3950
        #expect(SchedulerFilters.resources(pod, request, try info(nodeManifest(name: "n1"), requested: cpuHeavy)) == ["Insufficient cpu"])
        #expect(SchedulerFilters.resources(pod, request, try info(nodeManifest(name: "n1"), pods: 110)) == ["Too many pods"])
    }

    @Test func extendedResourcesMustBeAdvertised() throws {
        let pod = try pod(podManifest(name: "p") { $0[path: ["spec", "containers"]] = [["name": "compute", "resources": [
            "requests": ["memory": "64Mi", KubeVirt.kvmResource: "1"], "limits": [KubeVirt.kvmResource: "1"]]]] })
        let request = PodResources.requests(of: pod)
        #expect(SchedulerFilters.resources(pod, request, try info(nodeManifest(name: "tcg", kvm: false))) == ["Insufficient devices.kubevirt.io/kvm"])
        #expect(SchedulerFilters.resources(pod, request, try info(nodeManifest(name: "kvm"))) == [])
    }

    @Test func nodeSelectorMustMatch() throws {
        let pod = try pod(podManifest(name: "p", nodeSelector: ["disk": "ssd"]))
        #expect(SchedulerFilters.nodeSelector(pod, ResourceAmounts(), try info(nodeManifest(name: "n1"))) == ["node(s) didn't match Pod's node affinity/selector"])
        #expect(SchedulerFilters.nodeSelector(pod, ResourceAmounts(), try info(nodeManifest(name: "n2", labels: ["disk": "ssd"]))) == [])
    }

    @Test func requiredNodeAffinityMustMatch() throws {
        let pod = try pod(podManifest(name: "p") { pod in
            pod[path: ["spec", "affinity"]] = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
                ["matchExpressions": [["key": "zone", "operator": "In", "values": ["a", "b"]]]],
            ]]]]
        })
        #expect(SchedulerFilters.nodeAffinity(pod, ResourceAmounts(), try info(nodeManifest(name: "n1", labels: ["zone": "c"]))).count == 1)
        #expect(SchedulerFilters.nodeAffinity(pod, ResourceAmounts(), try info(nodeManifest(name: "n1", labels: ["zone": "b"]))).isEmpty)
    }

    @Test func cordonedNodesAreSkippedUnlessTolerated() throws {
        let cordoned = try info(nodeManifest(name: "n1") { $0[path: ["spec", "unschedulable"]] = true })
        let plain = try pod(podManifest(name: "p"))
        #expect(SchedulerFilters.nodeUnschedulable(plain, ResourceAmounts(), cordoned) == ["node(s) were unschedulable"])
        let tolerant = try pod(podManifest(name: "p") {
            $0[path: ["spec", "tolerations"]] = [["key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"]]
        })
        #expect(SchedulerFilters.nodeUnschedulable(tolerant, ResourceAmounts(), cordoned).isEmpty)
    }

    @Test func untoleratedTaintsExclude() throws {
        let tainted = try info(nodeManifest(name: "n1") {
            $0[path: ["spec", "taints"]] = [["key": "dedicated", "value": "db", "effect": "NoSchedule"], ["key": "soft", "effect": "PreferNoSchedule"]]
        })
        let plain = try pod(podManifest(name: "p"))
        #expect(SchedulerFilters.taints(plain, ResourceAmounts(), tainted) == ["node(s) had untolerated taint {dedicated: db}"])
        let wrongValue = try pod(podManifest(name: "p") { $0[path: ["spec", "tolerations"]] = [["key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"]] })
        #expect(SchedulerFilters.taints(wrongValue, ResourceAmounts(), tainted).count == 1)
        let tolerant = try pod(podManifest(name: "p") { $0[path: ["spec", "tolerations"]] = [["key": "dedicated", "operator": "Equal", "value": "db"]] })
        #expect(SchedulerFilters.taints(tolerant, ResourceAmounts(), tainted).isEmpty)
        let everything = try pod(podManifest(name: "p") { $0[path: ["spec", "tolerations"]] = [["operator": "Exists"]] })
        #expect(SchedulerFilters.taints(everything, ResourceAmounts(), tainted).isEmpty)
    }

    @Test func notReadyNodesAreSkipped() throws {
        let pod = try pod(podManifest(name: "p"))
        #expect(SchedulerFilters.nodeReady(pod, ResourceAmounts(), try info(nodeManifest(name: "n1", ready: false))) == ["node(s) were not ready"])
    }

    @Test func messageCountsReasonsAcrossNodes() throws {
        let pod = try pod(podManifest(name: "p", memory: "10Gi", nodeSelector: ["disk": "ssd"]))
        let nodes = [
            try info(nodeManifest(name: "a", labels: ["disk": "ssd"])),
            try info(nodeManifest(name: "b")),
            try info(nodeManifest(name: "c", ready: false)),
        ]
        let result = SchedulerFilters.place(pod, request: PodResources.requests(of: pod), nodes: nodes)
        #expect(result == .failure(.init(message:
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were not ready.")))
        #expect(SchedulerFilters.failureMessage(nodeCount: 0, reasons: [:]) == "no nodes available to schedule pods")
    }

    @Test func prefersTheNodeWithTheMostFreeMemory() throws {
        let pod = try pod(podManifest(name: "p"))
        var used = ResourceAmounts()
        used["memory"] = Int64(4) << 30 * 1000
        let nodes = [try info(nodeManifest(name: "a"), requested: used), try info(nodeManifest(name: "b", memory: "6Gi"))]
        #expect(SchedulerFilters.place(pod, request: PodResources.requests(of: pod), nodes: nodes) == .success(["b", "a"]))
    }
}

@Suite struct SchedulerTests {
    @Test func bindsAPendingPodAndRecordsIt() async throws {
        let world = World()
        world.client.seed(nodePath, nodeManifest(name: "small", memory: "1Gi"))
        world.client.seed(nodePath, nodeManifest(name: "large", memory: "16Gi"))
        world.client.seed(podPath, podManifest(name: "p1"))
        try await world.schedule("p1")
        let pod = try #require(world.client.object(podPath.named("p1")))
        #expect(pod[path: ["spec", "nodeName"]] == "large")
        #expect(pod.condition("PodScheduled")?["status"] == "True")
        let event = try #require(world.client.events(reason: "Scheduled").first)
        #expect(event["message"] == "Successfully assigned default/p1 to large")
        #expect(event[path: ["source", "component"]] == "default-scheduler")
        #expect(world.client.log.contains("PATCH pods/p1"))
    }

    @Test func unschedulablePodGetsTheConditionAndAnEvent() async throws {
        let world = World()
        world.client.seed(nodePath, nodeManifest(name: "n1", memory: "1Gi"))
        world.client.seed(podPath, podManifest(name: "huge", memory: "64Gi"))
        let result = try await world.schedule("huge")
        #expect(result == .requeue(after: Scheduler.retryInterval))
        let pod = try #require(world.client.object(podPath.named("huge")))
        #expect(pod[path: ["spec", "nodeName"]] == nil)
        let condition = try #require(pod.condition("PodScheduled"))
        #expect(condition["status"] == "False")
        #expect(condition["reason"] == "Unschedulable")
        #expect(condition["message"] == "0/1 nodes are available: 1 Insufficient memory.")
        #expect(world.client.events(reason: "FailedScheduling").first?["type"] == "Warning")

        // Trying again with nothing changed writes nothing.
        world.client.clearLog()
        try await world.schedule("huge")
        #expect(world.client.log.isEmpty)
    }

    @Test func assumedPodsCountBeforeTheCacheSeesThem() async throws {
        let world = World()
        world.client.seed(nodePath, nodeManifest(name: "n1", memory: "1Gi"))
        world.client.seed(podPath, podManifest(name: "a", memory: "700Mi"))
        world.client.seed(podPath, podManifest(name: "b", memory: "700Mi"))
        world.sync()
        // Both decisions against the same stale cache: the second must not overcommit n1.
        _ = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "a"))
        _ = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "b"))
        #expect(world.client.object(podPath.named("a"))?[path: ["spec", "nodeName"]] == "n1")
        #expect(world.client.object(podPath.named("b"))?[path: ["spec", "nodeName"]] == nil)
        #expect(world.client.object(podPath.named("b"))?.condition("PodScheduled")?["message"] == "0/1 nodes are available: 1 Insufficient memory.")
        // A second pass over the stale cache does not bind "a" twice.
        world.client.clearLog()
        _ = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "a"))
        #expect(!world.client.log.contains("PATCH pods/a"))
    }

    @Test func podsForOtherSchedulersAreIgnored() async throws {
        let world = World()
        world.client.seed(nodePath, nodeManifest(name: "n1"))
        world.client.seed(podPath, podManifest(name: "mine") { $0[path: ["spec", "schedulerName"]] = "other" })
        try await world.schedule("mine")
        #expect(world.client.object(podPath.named("mine"))?[path: ["spec", "nodeName"]] == nil)
        #expect(world.client.log.allSatisfy { !$0.hasPrefix("PATCH") && !$0.hasPrefix("PUT") })
    }
}
