import Foundation
import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile

@Suite struct VirtualMachineInstanceControllerTests {
    func pod(_ world: World) throws -> JSONValue {
        try #require(world.launcherPods.first)
    }

    @Test func createsTheLauncherPodAndMovesToScheduling() async throws {
        let world = World()
        let vmi = world.client.seed(vmiPath, vmiManifest())
        try await world.reconcileVMI()

        let stored = try #require(world.vmi())
        #expect(stored.metadataFinalizers == ["kubevirt.io/foregroundDeleteVirtualMachine"])
        #expect(stored.phase == "Scheduling")
        let transitions = stored[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue?.compactMap { $0["phase"]?.stringValue }
        #expect(transitions == ["Pending", "Scheduling"])
        #expect(stored[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue?.first?["phaseTransitionTimestamp"] == "2026-01-01T00:00:00Z")
        #expect(stored.condition("Ready")?["reason"] == "GuestNotRunning")

        let pod = try pod(world)
        let name = try #require(pod.metadataName)
        #expect(name.wholeMatch(of: /virt-launcher-testvm-[bcdfghjklmnpqrstvwxz2456789]{5}/) != nil)
        #expect(name == LauncherPod.name(vmiName: "testvm", uid: vmi.metadataUID ?? ""))
        let owner = try #require(pod.metadataOwnerReferences.first)
        #expect(owner["kind"] == "VirtualMachineInstance")
        #expect(owner["uid"] == vmi[path: ["metadata", "uid"]])
        #expect(owner["controller"] == true)
        #expect(owner["blockOwnerDeletion"] == true)
        #expect(pod[path: ["metadata", "labels", "kubevirt.io"]] == "virt-launcher")
        #expect(pod[path: ["metadata", "labels", "kubevirt.io/created-by"]] == vmi[path: ["metadata", "uid"]])
        #expect(pod[path: ["metadata", "labels", "vm.kubevirt.io/name"]] == "testvm")
        #expect(pod[path: ["metadata", "labels", "app"]] == "demo")
        #expect(pod[path: ["metadata", "annotations", "kubevirt.io/domain"]] == "testvm")
        #expect(stored[path: ["status", "activePods", pod.metadataUID ?? ""]] == "")

        let event = try #require(world.client.events(reason: "SuccessfulCreate").first)
        #expect(event["message"] == .string("Created virtual machine pod \(name)"))
        #expect(event[path: ["involvedObject", "kind"]] == "VirtualMachineInstance")
    }

    @Test func launcherPodResourcesIncludeTheOverhead() throws {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "big", namespace: "ns"), spec: VirtualMachineInstanceSpec())
        vmi.metadata?.uid = "11111111-2222-3333-4444-555555555555"
        vmi.spec.domain.memory = Memory(guest: try Quantity("1Gi"))
        vmi.spec.domain.cpu = CPU(cores: 2, sockets: 1, threads: 1)
        vmi.spec.nodeSelector = ["disk": "ssd"]
        vmi.spec.tolerations = [["key": "dedicated", "operator": "Equal", "value": "vms", "effect": "NoSchedule"]]
        vmi.spec.terminationGracePeriodSeconds = 120
        vmi.spec.schedulerName = "my-scheduler"

        let pod = try LauncherPod.build(for: vmi, options: .init(requestKVM: true))
        let container = try #require(pod.spec?.containers.first)
        #expect(container.name == "compute")
        let requests = try #require(container.resources?.requests)
        // 1 GiB guest + 30 MiB QEMU + 2 × 8 MiB vCPUs + 1% of 1 GiB (10.24 MiB) + 16 MiB VGA, rounded up to 73 MiB.
        let overhead = LauncherOverhead.memory(guestMemory: 1 << 30, vcpus: 2, graphics: true, emulation: false)
        #expect(overhead == 73 << 20)
        #expect(requests["memory"]?.bytes == (1 << 30) + overhead)
        #expect(requests["cpu"]?.milliValue == 200)
        #expect(requests[KubeVirt.kvmResource]?.milliValue == 1000)
        #expect(requests[KubeVirt.tunResource]?.milliValue == 1000)
        #expect(container.resources?.limits?[KubeVirt.kvmResource]?.milliValue == 1000)
        #expect(container.resources?.limits?["memory"] == nil)
        #expect(pod.spec?.nodeSelector == ["disk": "ssd", "kubevirt.io/schedulable": "true"])
        #expect(pod.spec?.tolerations == vmi.spec.tolerations)
        #expect(pod.spec?.terminationGracePeriodSeconds == 120)
        #expect(pod.spec?.schedulerName == "my-scheduler")
        #expect(pod.spec?.restartPolicy == "Never")

        // Emulation: no KVM device, the TCG allowance instead; limits carry the overhead too.
        vmi.spec.domain.resources = DomainResourceRequirements(requests: ["cpu": try Quantity("1")], limits: ["memory": try Quantity("2Gi")])
        vmi.spec.terminationGracePeriodSeconds = nil
        let emulated = try LauncherPod.build(for: vmi, options: .init(requestKVM: false))
        let resources = try #require(emulated.spec?.containers.first?.resources)
        let tcgOverhead = LauncherOverhead.memory(guestMemory: 1 << 30, vcpus: 2, graphics: true, emulation: true)
        #expect(tcgOverhead == overhead + (64 << 20))
        #expect(resources.requests?[KubeVirt.kvmResource] == nil)
        #expect(resources.requests?["cpu"]?.milliValue == 1000)
        #expect(resources.limits?["memory"]?.bytes == (2 << 30) + tcgOverhead)
        #expect(emulated.spec?.terminationGracePeriodSeconds == 30)
    }

    @Test func multusNetworksBecomeThePodsNetworkSelections() throws {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "multi", namespace: "ns"), spec: VirtualMachineInstanceSpec())
        vmi.metadata?.uid = "11111111-2222-3333-4444-555555555555"
        vmi.spec.domain.memory = Memory(guest: try Quantity("256Mi"))
        vmi.spec.networks = [
            Network(name: "default", pod: PodNetwork()),
            Network(name: "lan", multus: MultusNetwork(networkName: "br1")),
            Network(name: "storage", multus: MultusNetwork(networkName: "infra/storage-net")),
        ]
        let pod = try LauncherPod.build(for: vmi, options: .init())
        let text = try #require(pod.metadata?.annotations?[MultusNetworkSelection.annotation])
        #expect(try JSONValue.parse(text) == [
            ["name": "br1", "namespace": "ns", "interface": "net1"],
            ["name": "storage-net", "namespace": "infra", "interface": "net2"],
        ])
        #expect(pod.metadata?.annotations?[MultusNetworkSelection.defaultNetworkAnnotation] == nil)
        #expect(MultusNetworkSelection.selections(of: vmi.spec, namespace: "ns").map(\.network) == ["lan", "storage"])

        var defaulted = MultusNetwork(networkName: "other/primary")
        defaulted.default = true
        vmi.spec.networks = [Network(name: "main", multus: defaulted)]
        let alone = try LauncherPod.build(for: vmi, options: .init())
        #expect(alone.metadata?.annotations?[MultusNetworkSelection.annotation] == nil)
        #expect(alone.metadata?.annotations?[MultusNetworkSelection.defaultNetworkAnnotation] == "other/primary")

        vmi.spec.networks = [Network(name: "default", pod: PodNetwork())]
        let plain = try LauncherPod.build(for: vmi, options: .init())
        #expect(plain.metadata?.annotations?.keys.sorted() == [KubeVirt.domainAnnotation, KubeVirt.defaultContainerAnnotation].sorted())
    }

    @Test func interfacePortsBecomeTheComputeContainersPorts() throws {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "web", namespace: "ns"), spec: VirtualMachineInstanceSpec())
        vmi.metadata?.uid = "11111111-2222-3333-4444-555555555555"
        vmi.spec.domain.memory = Memory(guest: try Quantity("256Mi"))
        var interface = Interface(name: "default")
        interface.masquerade = EmptyObject()
        interface.ports = [["name": "http", "port": 80], ["port": 53, "protocol": "UDP"]]
        vmi.spec.domain.devices.interfaces = [interface]
        vmi.spec.networks = [Network(name: "default", pod: PodNetwork())]
        let pod = try LauncherPod.build(for: vmi, options: .init())
        #expect(pod.spec?.containers.first?.ports == [["name": "http", "containerPort": 80, "protocol": "TCP"], ["containerPort": 53, "protocol": "UDP"]])
        vmi.spec.domain.devices.interfaces?[0].ports = nil
        #expect(try LauncherPod.build(for: vmi, options: .init()).spec?.containers.first?.ports == nil)
    }

    @Test func overheadFunction() {
        // 256 MiB, 1 vCPU, VGA, KVM: 30 + 8 + 2.56 + 16 → 57 MiB.
        #expect(LauncherOverhead.memory(guestMemory: 256 << 20, vcpus: 1, graphics: true, emulation: false) == 57 << 20)
        // No graphics: 30 + 8 + 2.56 → 41 MiB.
        #expect(LauncherOverhead.memory(guestMemory: 256 << 20, vcpus: 1, graphics: false, emulation: false) == 41 << 20)
    }

    @Test func emulationAutoRequestsKVMOnlyWhenANodeHasIt() async throws {
        let world = World(emulation: .auto)
        world.client.seed(nodePath, nodeManifest(name: "tcg-only", kvm: false))
        world.client.seed(vmiPath, vmiManifest())
        try await world.reconcileVMI()
        #expect(try pod(world)[path: ["spec", "containers"]]?.arrayValue?.first?[path: ["resources", "requests", KubeVirt.kvmResource]] == nil)

        let kvmWorld = World(emulation: .auto)
        kvmWorld.client.seed(nodePath, nodeManifest(name: "kvm"))
        kvmWorld.client.seed(vmiPath, vmiManifest())
        try await kvmWorld.reconcileVMI()
        #expect(try pod(kvmWorld)[path: ["spec", "containers"]]?.arrayValue?.first?[path: ["resources", "requests", KubeVirt.kvmResource]] == "1")
    }

    @Test func unschedulablePodIsReflectedOnTheVMI() async throws {
        let world = World()
        world.client.seed(vmiPath, vmiManifest())
        try await world.reconcileVMI()
        let podName = try #require(try pod(world).metadataName)
        let message = "0/1 nodes are available: 1 Insufficient memory."
        world.editPod(podName) { pod in
            pod[path: ["status", "conditions"]] = [["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message)]]
        }
        try await world.reconcileVMI()
        let condition = try #require(world.vmi()?.condition("PodScheduled"))
        #expect(condition["status"] == "False")
        #expect(condition["reason"] == "Unschedulable")
        #expect(condition["message"] == .string(message))
        #expect(world.vmi()?.phase == "Scheduling")
        #expect(world.client.events(reason: "FailedScheduling").first?["message"] == .string(message))
    }

    @Test func boundPodMakesTheVMIScheduled() async throws {
        let world = World()
        world.client.seed(vmiPath, vmiManifest())
        try await world.reconcileVMI()
        let pod = try pod(world)
        let podName = try #require(pod.metadataName)
        world.editPod(podName) { pod in
            pod[path: ["spec", "nodeName"]] = "node-a"
            pod[path: ["status", "conditions"]] = [["type": "PodScheduled", "status": "True"]]
        }
        try await world.reconcileVMI()
        let vmi = try #require(world.vmi())
        #expect(vmi.phase == "Scheduled")
        #expect(vmi[path: ["status", "nodeName"]] == "node-a")
        #expect(vmi[path: ["status", "activePods"]] == .object([pod.metadataUID ?? "": "node-a"]))
        #expect(vmi.condition("PodScheduled") == nil)
        #expect(vmi[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue?.compactMap { $0["phase"]?.stringValue }
            == ["Pending", "Scheduling", "Scheduled"])
        #expect(world.client.events(reason: "Scheduled").first?["message"] == "VirtualMachineInstance scheduled to node node-a")
    }

    @Test func runningVMIBecomesReadyFromItsPodAndLeavesThePhaseToTheNodeAgent() async throws {
        let world = World()
        world.client.seed(vmiPath, vmiManifest())
        try await world.reconcileVMI()
        let podName = try #require(try pod(world).metadataName)
        world.editPod(podName) { pod in
            pod[path: ["spec", "nodeName"]] = "node-a"
            pod[path: ["status", "phase"]] = "Running"
        }
        try await world.reconcileVMI()
        // The node agent reports Running.
        world.editVMI { vmi in
            vmi[path: ["status", "phase"]] = "Running"
            var transitions = vmi[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue ?? []
            transitions.append(["phase": "Running", "phaseTransitionTimestamp": "2026-01-01T00:00:05Z"])
            vmi[path: ["status", "phaseTransitionTimestamps"]] = .array(transitions)
            vmi[path: ["status", "interfaces"]] = [["name": "default", "ipAddress": "10.0.2.2"]]
        }
        try await world.reconcileVMI()
        #expect(world.vmi()?.condition("Ready")?["status"] == "True")
        #expect(world.vmi()?[path: ["status", "interfaces"]]?.arrayValue?.count == 1)  // the agent's fields survive

        _ = try await world.client.delete(podPath.named(podName), propagationPolicy: nil, gracePeriodSeconds: nil)
        try await world.reconcileVMI()
        let vmi = try #require(world.vmi())
        // From Scheduled on the phase is the node agent's: the controller only says the pod is gone.
        #expect(vmi.phase == "Running")
        #expect(vmi.condition("Ready")?["reason"] == "PodNotExists")
        #expect(vmi[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue?.last?["phase"] == "Running")
        #expect(world.client.events(reason: "Failed").isEmpty)
        #expect(world.launcherPods.isEmpty)  // not re-created
    }

    @Test func theControllerMovesOnlyThePhasesBeforeTheNodeAgentTakesOver() {
        var pod = Pod(metadata: ObjectMeta(name: "p"), spec: PodSpec(containers: []))
        pod.spec?.nodeName = "n"
        pod.status = PodStatus()
        #expect(VirtualMachineInstanceController.nextPhase("Running", pod: pod, podExists: true) == "Running")
        pod.status?.phase = "Succeeded"
        #expect(VirtualMachineInstanceController.nextPhase("Running", pod: pod, podExists: true) == "Running")
        pod.status?.phase = "Failed"
        #expect(VirtualMachineInstanceController.nextPhase("Scheduled", pod: pod, podExists: true) == "Scheduled")
        #expect(VirtualMachineInstanceController.nextPhase("Running", pod: nil, podExists: false) == "Running")
        #expect(VirtualMachineInstanceController.nextPhase("Scheduling", pod: pod, podExists: true) == "Failed")
        #expect(VirtualMachineInstanceController.nextPhase("Scheduling", pod: nil, podExists: false) == "Failed")
        #expect(VirtualMachineInstanceController.nextPhase("", pod: nil, podExists: false) == "Pending")
        #expect(VirtualMachineInstanceController.nextPhase("Succeeded", pod: nil, podExists: false) == "Succeeded")
    }

    @Test func deletingTheVMIDeletesItsPodThenReleasesIt() async throws {
        let world = World()
        world.client.seed(vmiPath, vmiManifest { $0[path: ["spec", "terminationGracePeriodSeconds"]] = 5 })
        try await world.reconcileVMI()
        let podName = try #require(try pod(world).metadataName)
        _ = try await world.client.delete(vmiPath.named("testvm"), propagationPolicy: nil, gracePeriodSeconds: nil)
        #expect(world.vmi()?.metadataDeletionTimestamp != nil)  // held by the finalizer

        try await world.reconcileVMI()
        #expect(world.client.object(podPath.named(podName)) == nil)
        #expect(world.vmi() == nil)
        #expect(world.client.log.contains("DELETE pods/\(podName)"))
    }

    @Test func aPodTheControllerCannotBuildIsReportedNotRetried() async throws {
        let world = World()
        world.client.seed(vmiPath, vmiManifest { $0[path: ["spec", "domain", "memory"]] = nil })
        await #expect(throws: TerminalError.self) { try await world.reconcileVMI() }
        let vmi = try #require(world.vmi())
        #expect(vmi.phase == "Pending")
        #expect(vmi.condition("Synchronized")?["reason"] == "FailedCreate")
        #expect(world.client.events(reason: "FailedCreate").count == 1)
        #expect(world.launcherPods.isEmpty)
    }

    @Test func aLostCreateAnswerDoesNotMakeASecondPod() async throws {
        let world = World()
        world.client.seed(vmiPath, vmiManifest())
        try await world.reconcileVMI()
        // Forget the pod in the cache and the VMI's progress: the controller creates again, finds its pod.
        world.editVMI { $0[path: ["status"]] = [:] }
        world.vmis.replace(with: world.client.objects(KubeVirt.virtualMachineInstances))
        world.pods.replace(with: [])
        _ = try await world.vmiController.reconcile(ObjectKey(namespace: namespace, name: "testvm"))
        #expect(world.launcherPods.count == 1)
        #expect(world.vmi()?.phase == "Scheduling")
    }
}
