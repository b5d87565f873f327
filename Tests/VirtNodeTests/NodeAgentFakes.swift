import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtDisk
import VirtError
import VirtNode
import VirtOS
import VirtQEMU
import VirtReconcile
import VirtRuntime
import VirtTestSupport

/// A pod runtime that keeps sandboxes in memory and records every call.
final class FakePodRuntime: PodRuntime {
    struct State {
        var sandboxes: [String: ContainerState] = [:]
        var started: [PodSandboxSpec] = []
        var stopped: [(id: String, grace: Duration)] = []
        var calls: [String] = []
        var stderr: [String: String] = [:]
        var startError: VirtError?
    }

    let state = Mutex(State())
    let root: String

    init(root: String = "/run/fake-pods") { self.root = root }

    func stateDirectory(of id: String) -> String { "\(root)/\(id)/state" }

    func status(_ id: String) async throws -> ContainerState? { state.withLock { $0.sandboxes[id] } }

    func start(_ spec: PodSandboxSpec) async throws {
        try state.withLock { state in
            state.calls.append("start \(spec.id)")
            if let error = state.startError { throw error }
            state.started.append(spec)
            state.sandboxes[spec.id] = ContainerState(id: spec.id, pid: 4242, status: .running, bundle: "\(root)/\(spec.id)")
        }
    }

    func stop(_ id: String, grace: Duration) async throws {
        state.withLock { state in
            state.calls.append("stop \(id)")
            state.stopped.append((id, grace))
            state.sandboxes[id] = nil
        }
    }

    func exec(_ id: String, _ arguments: [String], input: [UInt8]?) async throws -> CommandResult {
        CommandResult(exitCode: 0, stdout: [], stderr: [])
    }

    func errorOutput(of id: String) -> String { state.withLock { $0.stderr[id] ?? "" } }

    /// A sandbox as one left running by an earlier agent.
    func adopt(_ id: String, status: ContainerState.Status = .running) {
        state.withLock { $0.sandboxes[id] = ContainerState(id: id, pid: 4243, status: status, bundle: "\(root)/\(id)") }
    }

    /// QEMU exited on its own.
    func processExited(_ id: String) {
        state.withLock { $0.sandboxes[id]?.status = .stopped }
    }

    var calls: [String] { state.withLock { $0.calls } }
    var started: [PodSandboxSpec] { state.withLock { $0.started } }
}

/// Volumes "prepared" without touching a disk: one qcow2 path per volume.
final class FakeVolumes: VolumeProvider {
    let failure = Mutex<(any Error & Sendable)?>(nil)
    let prepared = Mutex<[String]>([])
    /// The claims the last prepare was given.
    let claims = Mutex<[String: ClaimedVolume]>([:])

    func prepare(_ vmi: VirtualMachineInstance, stateDirectory: String, secrets: [String: Secret],
                 claims: [String: ClaimedVolume]) async throws -> [PreparedDisk] {
        if let failure = failure.withLock({ $0 }) { throw failure }
        prepared.withLock { $0.append(vmi.metadata?.name ?? "") }
        self.claims.withLock { $0 = claims }
        return (vmi.spec.volumes ?? []).map { volume in
            PreparedDisk(volumeName: volume.name, source: .emptyDisk, path: "\(stateDirectory)/disks/\(volume.name).qcow2", format: .qcow2, readOnly: false)
        }
    }

    /// The state directories whose volumes were released, in order.
    let released = Mutex<[String]>([])

    func release(stateDirectory: String) async throws { released.withLock { $0.append(stateDirectory) } }
}

/// Networks attached in name only.
final class FakeNetworks: NetworkAttacher {
    let detached = Mutex<[String]>([])

    func attach(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> NetworkAttachment {
        NetworkAttachment(backends: Dictionary(uniqueKeysWithValues: (vmi.spec.domain.devices.interfaces ?? []).map { ($0.name, LaunchContext.NetworkBackend.user) }),
                          podIPs: ["10.244.0.9"])
    }

    func detach(sandboxID: String) async throws { detached.withLock { $0.append(sandboxID) } }
}

/// A guest monitor whose run state the test sets and whose events the test sends.
final class FakeMonitor: GuestMonitor {
    let status = Mutex<(running: Bool, status: String)>((true, "running"))
    let commands = Mutex<[String]>([])
    let events: AsyncStream<QMPEvent>
    let continuation: AsyncStream<QMPEvent>.Continuation

    init() {
        (events, continuation) = AsyncStream.makeStream(of: QMPEvent.self)
    }

    func queryStatus() async throws(VirtError) -> (running: Bool, status: String) {
        commands.withLock { $0.append("query-status") }
        return status.withLock { $0 }
    }

    func stop() async throws(VirtError) {
        commands.withLock { $0.append("stop") }
        status.withLock { $0 = (false, "paused") }
    }

    func cont() async throws(VirtError) {
        commands.withLock { $0.append("cont") }
        status.withLock { $0 = (true, "running") }
    }

    func systemPowerdown() async throws(VirtError) { commands.withLock { $0.append("system_powerdown") } }

    func sendKeys(_ keys: [String]) async throws(VirtError) { commands.withLock { $0.append("send-key " + keys.joined(separator: "-")) } }

    func close() { continuation.finish() }

    func send(_ name: String, _ data: JSONValue = .object([:])) {
        continuation.yield(QMPEvent(name: name, data: data, timestamp: 0))
    }

    var sent: [String] { commands.withLock { $0 } }
}

/// Hands out one ``FakeMonitor`` per socket path, the same one on every connect.
final class FakeConnector: GuestMonitorConnector {
    let monitors = Mutex<[String: FakeMonitor]>([:])
    let connects = Mutex(0)

    func connect(socketPath: String, timeout: Duration) async throws(VirtError) -> any GuestMonitor {
        connects.withLock { $0 += 1 }
        return monitor(socketPath)
    }

    func monitor(_ socketPath: String) -> FakeMonitor {
        monitors.withLock { monitors in
            if let existing = monitors[socketPath] { return existing }
            let made = FakeMonitor()
            monitors[socketPath] = made
            return made
        }
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// The fake API, the caches an agent's informers would fill, fake runtimes, and the handler over them.
struct AgentWorld {
    let client = FakeAPIClient()
    let vmis = ObjectCache()
    let pods = ObjectCache()
    let runtime = FakePodRuntime()
    let volumes = FakeVolumes()
    let networks = FakeNetworks()
    let connector = FakeConnector()
    let queue = WorkQueue<ObjectKey>()
    let nodeName: String
    let handler: VirtualMachineHandler

    init(nodeName: String = "node-a") {
        self.nodeName = nodeName
        handler = Self.makeHandler(client: client, vmis: vmis, pods: pods, queue: queue, runtime: runtime, volumes: volumes,
                                   networks: networks, connector: connector, nodeName: nodeName)
    }

    /// A second agent process on the same node (after a restart): same API and runtimes, nothing remembered.
    func restartedHandler() -> VirtualMachineHandler {
        Self.makeHandler(client: client, vmis: vmis, pods: pods, queue: queue, runtime: runtime, volumes: volumes,
                         networks: networks, connector: connector, nodeName: nodeName)
    }

    static func makeHandler(client: FakeAPIClient, vmis: ObjectCache, pods: ObjectCache, queue: WorkQueue<ObjectKey>, runtime: FakePodRuntime,
                            volumes: FakeVolumes, networks: FakeNetworks, connector: FakeConnector, nodeName: String) -> VirtualMachineHandler {
        VirtualMachineHandler(
            client: client, vmis: vmis, pods: pods, queue: queue,
            runtimes: .init(pods: runtime, volumes: volumes, networks: networks, monitors: connector),
            recorder: EventRecorder(client: client, component: "virt-handler", host: nodeName, logger: quietLogger),
            configuration: .init(nodeName: nodeName, nodeAddress: "192.0.2.10", accelerator: .tcg, retryAfter: .seconds(10)),
            logger: quietLogger)
    }

    static let vmiPath = KubeVirt.virtualMachineInstances.inNamespace("default")
    static let podPath = KubeVirt.pods.inNamespace("default")
    let key = ObjectKey(namespace: "default", name: "testvm")

    /// A VMI the controllers have scheduled to `node`, and its launcher pod bound there.
    @discardableResult
    func seedScheduled(node: String? = nil, podName: String = "virt-launcher-testvm-abcde", edit: (inout JSONValue) -> Void = { _ in }) -> (vmi: JSONValue, pod: JSONValue) {
        let node = node ?? nodeName
        var vmi: JSONValue = [
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": ["name": "testvm", "namespace": "default", "uid": "6f1c1d2e-0000-4000-8000-000000000001"],
            "spec": [
                "domain": [
                    "memory": ["guest": "128Mi"],
                    "devices": ["disks": [["name": "root", "disk": ["bus": "virtio"]]], "interfaces": [["name": "default", "masquerade": [:]]]],
                ],
                "networks": [["name": "default", "pod": [:]]],
                "volumes": [["name": "root", "emptyDisk": ["capacity": "1Gi"]]],
            ],
            "status": [
                "phase": "Scheduled", "nodeName": .string(node),
                "phaseTransitionTimestamps": [["phase": "Pending"], ["phase": "Scheduling"], ["phase": "Scheduled"]],
            ],
        ]
        edit(&vmi)
        let stored = client.seed(Self.vmiPath, vmi)
        let pod = seedPod(name: podName, node: node, vmiUID: stored.metadataUID ?? "")
        return (stored, pod)
    }

    @discardableResult
    func seedPod(name: String, node: String, vmiUID: String, labels: [String: JSONValue] = [:]) -> JSONValue {
        var allLabels: [String: JSONValue] = [KubeVirt.createdByLabel: .string(vmiUID), KubeVirt.appLabel: "virt-launcher"]
        for (key, value) in labels { allLabels[key] = value }
        return client.seed(Self.podPath, [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": "default", "labels": .object(allLabels),
                "ownerReferences": [["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "name": "testvm",
                                     "uid": .string(vmiUID), "controller": true]],
            ],
            "spec": ["nodeName": .string(node), "terminationGracePeriodSeconds": 1,
                     "containers": [["name": "compute", "image": "qemu", "resources": ["requests": ["memory": "200Mi"]]]]],
            "status": ["phase": "Pending"],
        ])
    }

    /// What the informers would hold now.
    func sync() {
        vmis.replace(with: client.objects(KubeVirt.virtualMachineInstances))
        pods.replace(with: client.objects(KubeVirt.pods).filter { $0[path: ["spec", "nodeName"]]?.stringValue == nodeName })
    }

    @discardableResult
    func reconcile(with handler: VirtualMachineHandler? = nil) async throws -> ReconcileResult {
        sync()
        return try await (handler ?? self.handler).reconcile(key)
    }

    var vmi: JSONValue? { client.object(Self.vmiPath.named("testvm")) }
    func pod(_ name: String = "virt-launcher-testvm-abcde") -> JSONValue? { client.object(Self.podPath.named(name)) }
    var sandboxID: String { "default_virt-launcher-testvm-abcde" }
    var monitor: FakeMonitor { connector.monitor(runtime.stateDirectory(of: sandboxID) + "/qmp.sock") }

    func condition(_ type: String) -> JSONValue? {
        vmi?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    func editVMI(_ edit: (inout JSONValue) -> Void) {
        guard var object = vmi else { return }
        edit(&object)
        client.seed(Self.vmiPath, object)
    }

    /// Waits (up to 10 s) until `condition` holds, reconciling in between as the agent's queue would.
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
            try await reconcile()
        }
        return condition()
    }
}
