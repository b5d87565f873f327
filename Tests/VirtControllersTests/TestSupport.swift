import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_767_225_600))  // 2026-01-01T00:00:00Z

    var now: Date { current.withLock { $0 } }

    func advance(seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var function: @Sendable () -> Date { { [self] in self.now } }
}

let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

let namespace = "default"
let vmPath = KubeVirt.virtualMachines.inNamespace(namespace)
let vmiPath = KubeVirt.virtualMachineInstances.inNamespace(namespace)
let podPath = KubeVirt.pods.inNamespace(namespace)
let nodePath = KubeVirt.nodes

/// The fake API, caches filled from it, and the three reconcilers over them: seed objects, `sync()`,
/// reconcile, look at what the fake holds.
struct World {
    let clock = TestClock()
    let client: FakeAPIClient
    let vms = ObjectCache()
    let vmis = ObjectCache()
    let pods = ObjectCache()
    let nodes = ObjectCache()
    let vmController: VirtualMachineController
    let vmiController: VirtualMachineInstanceController
    let scheduler: Scheduler

    init(emulation: EmulationMode = .disabled) {
        let client = FakeAPIClient(now: clock.function)
        self.client = client
        let recorder = EventRecorder(client: client, component: "virtualmachine-controller", now: clock.function, logger: quietLogger)
        vmController = VirtualMachineController(client: client, vms: vms, vmis: vmis, recorder: recorder, now: clock.function, logger: quietLogger)
        vmiController = VirtualMachineInstanceController(
            client: client, vmis: vmis, pods: pods, nodes: nodes, recorder: recorder,
            configuration: .init(emulation: emulation), now: clock.function, logger: quietLogger)
        scheduler = Scheduler(
            client: client, pods: pods, nodes: nodes,
            recorder: EventRecorder(client: client, component: "default-scheduler", now: clock.function, logger: quietLogger),
            now: clock.function, logger: quietLogger)
    }

    /// Copies the fake's objects into the caches (what the informers would do).
    func sync() {
        vms.replace(with: client.objects(KubeVirt.virtualMachines))
        vmis.replace(with: client.objects(KubeVirt.virtualMachineInstances))
        pods.replace(with: client.objects(KubeVirt.pods))
        nodes.replace(with: client.objects(KubeVirt.nodes))
    }

    @discardableResult
    func reconcileVM(_ name: String = "testvm") async throws -> ReconcileResult {
        sync()
        return try await vmController.reconcile(ObjectKey(namespace: namespace, name: name))
    }

    @discardableResult
    func reconcileVMI(_ name: String = "testvm") async throws -> ReconcileResult {
        sync()
        return try await vmiController.reconcile(ObjectKey(namespace: namespace, name: name))
    }

    @discardableResult
    func schedule(_ name: String) async throws -> ReconcileResult {
        sync()
        return try await scheduler.reconcile(ObjectKey(namespace: namespace, name: name))
    }

    func vm(_ name: String = "testvm") -> JSONValue? { client.object(vmPath.named(name)) }
    func vmi(_ name: String = "testvm") -> JSONValue? { client.object(vmiPath.named(name)) }
    var launcherPods: [JSONValue] { client.objects(podPath) }

    /// Changes the stored VMI (as the node agent would).
    func editVMI(_ name: String = "testvm", _ edit: (inout JSONValue) -> Void) {
        guard var object = vmi(name) else { return }
        edit(&object)
        client.seed(vmiPath, object)
    }

    func editVM(_ name: String = "testvm", _ edit: (inout JSONValue) -> Void) {
        guard var object = vm(name) else { return }
        edit(&object)
        client.seed(vmPath, object)
    }

    func editPod(_ name: String, _ edit: (inout JSONValue) -> Void) {
        guard var object = client.object(podPath.named(name)) else { return }
        edit(&object)
        client.seed(podPath, object)
    }
}

// MARK: - Builders

/// A VirtualMachine manifest like `examples/vm-tiny.yaml`.
func vmManifest(name: String = "testvm", runStrategy: String? = "Always", running: Bool? = nil, memory: String = "256Mi") -> JSONValue {
    var spec: JSONValue = [
        "template": [
            "metadata": ["labels": ["kubevirt.io/vm": .string(name), "app": "demo"], "annotations": ["note": "from-template"]],
            "spec": [
                "domain": ["memory": ["guest": .string(memory)], "devices": ["disks": [["name": "root", "disk": ["bus": "virtio"]]]]],
                "volumes": [["name": "root", "containerDisk": ["image": "/var/lib/images/tiny.qcow2"]]],
            ],
        ],
    ]
    if let runStrategy { spec["runStrategy"] = .string(runStrategy) }
    if let running { spec["running"] = .bool(running) }
    return ["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": ["name": .string(name)], "spec": spec]
}

/// A VMI manifest.
func vmiManifest(name: String = "testvm", memory: String = "256Mi", extra: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
    var vmi: JSONValue = [
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
        "metadata": ["name": .string(name), "labels": ["app": "demo"]],
        "spec": ["domain": ["memory": ["guest": .string(memory)], "devices": [:]]],
    ]
    extra(&vmi)
    return vmi
}

/// A Ready node with KVM and 4 CPUs / 8 GiB allocatable.
func nodeManifest(name: String, memory: String = "8Gi", cpu: String = "4", ready: Bool = true, kvm: Bool = true,
                  labels: [String: String] = [:], extra: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
    var allocatable: JSONValue = ["cpu": .string(cpu), "memory": .string(memory), "pods": "110", KubeVirt.tunResource: "1k"]
    if kvm { allocatable[KubeVirt.kvmResource] = "1k" }
    var allLabels = ["kubernetes.io/hostname": name, KubeVirt.schedulableLabel: "true"]
    for (k, v) in labels { allLabels[k] = v }
    var node: JSONValue = [
        "apiVersion": "v1", "kind": "Node",
        "metadata": ["name": .string(name), "labels": .object(allLabels.mapValues { .string($0) })],
        "spec": [:],
        "status": [
            "allocatable": allocatable, "capacity": allocatable,
            "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]],
        ],
    ]
    extra(&node)
    return node
}

/// A pending pod with these requests.
func podManifest(name: String, memory: String = "128Mi", cpu: String = "100m", nodeSelector: [String: String]? = nil,
                 extra: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
    var pod: JSONValue = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": .string(name)],
        "spec": ["containers": [["name": "c", "resources": ["requests": ["memory": .string(memory), "cpu": .string(cpu)]]]]],
        "status": ["phase": "Pending"],
    ]
    if let nodeSelector { pod[path: ["spec", "nodeSelector"]] = .object(nodeSelector.mapValues { .string($0) }) }
    extra(&pod)
    return pod
}

extension JSONValue {
    func condition(_ type: String) -> JSONValue? {
        self[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    var phase: String? { self[path: ["status", "phase"]]?.stringValue }
    var printableStatus: String? { self[path: ["status", "printableStatus"]]?.stringValue }
}
