import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtDisk
import VirtError
import VirtQEMU
import VirtReconcile
import VirtRuntime

/// The node agent's core: for every launcher pod bound to this node, runs the VMI's QEMU inside a runc
/// sandbox, drives it over QMP, and reports the VMI and pod status. Level-based: it looks at the pod,
/// the sandbox and QEMU each time, so a restarted agent re-adopts running VMs instead of restarting them.
public final class VirtualMachinePodReconciler: Reconciler, Sendable {
    public struct Configuration: Sendable {
        public var nodeName: String
        public var accelerator: LaunchContext.Accelerator
        /// Where pod bundles and their state live (`DATA_DIR/pods`).
        public var podsDirectory: String
        public var containerDiskCache: String

        public init(nodeName: String, accelerator: LaunchContext.Accelerator, podsDirectory: String, containerDiskCache: String) {
            self.nodeName = nodeName
            self.accelerator = accelerator
            self.podsDirectory = podsDirectory
            self.containerDiskCache = containerDiskCache
        }
    }

    /// Held on every pod the agent runs, so a deleted pod waits for its VM to shut down.
    public static let finalizer = "swiftvirt.io/node-agent"

    let client: KubeClient
    let pods: Informer
    let configuration: Configuration
    let sandbox: PodSandbox
    let preparer: VolumePreparer
    let logger: Logger
    let monitors = Mutex<[String: Task<Void, Never>]>([:])
    /// The monitor's QMP connection per sandbox: QEMU's QMP socket takes one client at a time, so every
    /// command goes through it.
    let clients = Mutex<[String: QMPClient]>([:])
    let vmis: Informer?
    let queue: WorkQueue<ObjectKey>

    public init(client: KubeClient, pods: Informer, vmis: Informer? = nil, queue: WorkQueue<ObjectKey>, configuration: Configuration, logger: Logger) {
        self.client = client
        self.pods = pods
        self.vmis = vmis
        self.queue = queue
        self.configuration = configuration
        self.sandbox = .node(podsDirectory: configuration.podsDirectory)
        self.preparer = VolumePreparer(configuration: .init(containerDiskCache: configuration.containerDiskCache, isoTool: .genisoimage))
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let namespace = key.namespace ?? "default"
        let id = PodSandboxSpec.containerID(namespace: namespace, name: key.name)
        guard let pod = pods.cache.get(key) else {
            // The pod is gone (its finalizer was removed or forced away): nothing may keep running.
            try await stopSandbox(id, grace: .seconds(0))
            return .done
        }
        let state = try await sandbox.status(id)
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
        if pod[path: ["metadata", "deletionTimestamp"]] != nil {
            let grace = pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
            try await shutDown(id, grace: .seconds(grace))
            try await removeFinalizer(pod)
            return .done
        }
        if phase == "Succeeded" || phase == "Failed" {
            if state != nil { try await stopSandbox(id, grace: .seconds(0)) }
            return .done
        }
        if let state, state.isAlive {
            attachMonitor(id: id, key: key)
            if phase != "Running" { try await reportRunning(pod: pod) }
            try await applyRequests(pod: pod, id: id)
            return .done
        }
        if state != nil || phase == "Running" {
            // QEMU is gone while the pod says it should run: report how it ended.
            let ended = monitorEnding(id)
            try await stopSandbox(id, grace: .seconds(0))
            try await reportEnded(pod: pod, succeeded: ended == .guestShutdown)
            return .done
        }
        do {
            try await start(pod: pod, id: id, key: key)
        } catch {
            let output = Self.tail(of: sandbox.bundle(for: id).stderrPath)
            let message = output.isEmpty ? "\(error)" : "\(error); QEMU said: \(output)"
            logger.error("starting \(key) failed: \(message)")
            try? await stopSandbox(id, grace: .seconds(0))
            try await reportEnded(pod: pod, succeeded: false, message: message)
            return .done
        }
        return .done
    }

    // MARK: - Start

    func start(pod: JSONValue, id: String, key: ObjectKey) async throws {
        let namespace = key.namespace ?? "default"
        // The finalizer must be on the pod before QEMU starts, not before its disks are made: add it while
        // the volumes are prepared.
        async let finalized: Void = addFinalizer(pod)
        guard let owner = pod[path: ["metadata", "ownerReferences"]]?.arrayValue?.first(where: { $0["kind"]?.stringValue == "VirtualMachineInstance" }),
              let vmiName = owner["name"]?.stringValue
        else {
            throw VirtError(.invalid, "pod \(key) has no VirtualMachineInstance owner; the node agent only runs launcher pods")
        }
        let vmiJSON = try await client.get(vmiPath(namespace, vmiName))
        let vmi = try JSONValueDecoder().decode(VirtualMachineInstance.self, from: vmiJSON)
        let typedPod = try JSONValueDecoder().decode(Pod.self, from: pod)
        let bundle = sandbox.bundle(for: id)
        let state = bundle.statePath
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let secrets = try await referencedSecrets(vmi: vmi, namespace: namespace)
        let prepared = try await preparer.prepare(vmi, stateDirectory: state, secrets: secrets)
        var disks: [String: LaunchContext.PreparedDisk] = [:]
        var visible: Set<String> = [state]
        for disk in prepared {
            disks[disk.volumeName] = LaunchContext.PreparedDisk(
                path: disk.path, format: disk.format == .raw ? .raw : .qcow2, readonly: disk.readOnly)
            visible.insert((disk.path as NSString).deletingLastPathComponent)
            if let backing = disk.backing { visible.insert((backing.path as NSString).deletingLastPathComponent) }
        }
        var kernel: String?, initrd: String?
        if let boot = vmi.spec.domain.firmware?.kernelBoot, let image = boot.container?.image {
            kernel = boot.container?.kernelPath.map { Self.join(image, $0) }
            initrd = boot.container?.initrdPath.map { Self.join(image, $0) }
            for path in [kernel, initrd].compactMap({ $0 }) { visible.insert((path as NSString).deletingLastPathComponent) }
        }
        var interfaces: [String: LaunchContext.NetworkBackend] = [:]
        for interface in vmi.spec.domain.devices.interfaces ?? [] { interfaces[interface.name] = .user }
        let context = LaunchContext(
            accelerator: configuration.accelerator, vmiUID: vmi.metadata?.uid ?? id,
            qmpSocketPath: state + "/" + PodStreams.qmpSocket, serialSocketPath: state + "/" + PodStreams.serialSocket,
            serialLogPath: state + "/" + PodStreams.serialLog, vncSocketPath: state + "/" + PodStreams.vncSocket, disks: disks, kernelPath: kernel, initrdPath: initrd, interfaces: interfaces)
        let command = try QEMUCommand.build(vmi: vmi, context: context)
        let mounts = visible.sorted().map { PodSandboxSpec.BindMount(source: $0, destination: $0, readOnly: $0 != state && !$0.hasPrefix(state)) }
        var spec = try PodSandboxSpec(pod: typedPod, process: .init(arguments: [command.executable] + command.arguments, workingDirectory: "/"), mounts: mounts)
        if spec.resources.memoryLimitBytes == nil {
            spec.resources.memoryLimitBytes = typedPod.spec?.containers.first?.resources?.requests?["memory"]?.bytes
        }
        _ = try sandbox.prepare(spec)
        try await finalized
        let started = ContinuousClock.now
        _ = try await sandbox.start(id)
        let qmp = try await QMPClient.connect(to: context.qmpSocketPath, timeout: .seconds(30))
        defer { qmp.close() }
        let status = try await qmp.queryStatus()
        logger.info("\(key): QEMU \(status.status) after \(ContinuousClock.now - started) (\(configuration.accelerator.rawValue))")
        attachMonitor(id: id, key: key)
        try await reportRunning(pod: pod)
    }

    /// The last lines of a log, for error messages.
    static func tail(of path: String, lines: Int = 5) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: " | ")
    }

    static func join(_ base: String, _ path: String) -> String {
        path.hasPrefix("/") && !base.hasSuffix("/") && FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: base + path)
            ? path : (base as NSString).appendingPathComponent(path)
    }

    func referencedSecrets(vmi: VirtualMachineInstance, namespace: String) async throws -> [String: Secret] {
        var secrets: [String: Secret] = [:]
        for volume in vmi.spec.volumes ?? [] {
            let sources = [volume.cloudInitNoCloud, volume.cloudInitConfigDrive].compactMap { $0 }
            for source in sources {
                for name in [source.secretRef?.name, source.networkDataSecretRef?.name].compactMap({ $0 }) where secrets[name] == nil {
                    let json = try await client.get(.core("secrets", namespace: namespace, name: name))
                    secrets[name] = try JSONValueDecoder().decode(Secret.self, from: json)
                }
            }
        }
        return secrets
    }

    // MARK: - Watching QEMU

    enum Ending: Sendable { case guestShutdown, other }
    let endings = Mutex<[String: Ending]>([:])

    func monitorEnding(_ id: String) -> Ending? {
        endings.withLock { $0.removeValue(forKey: id) }
    }

    /// Follows QEMU's QMP events until the connection closes, then asks for the pod to be looked at again.
    func attachMonitor(id: String, key: ObjectKey) {
        let socket = sandbox.bundle(for: id).statePath + "/" + PodStreams.qmpSocket
        let newTask: Task<Void, Never>? = monitors.withLock { monitors in
            if let existing = monitors[id], !existing.isCancelled { return nil }
            let task = Task { [weak self] in
                guard let self else { return }
                defer { self.monitors.withLock { _ = $0.removeValue(forKey: id) } }
                guard let qmp = try? await QMPClient.connect(to: socket, timeout: .seconds(10)) else {
                    await self.queue.add(key)
                    return
                }
                self.clients.withLock { $0[id] = qmp }
                await self.queue.add(key)
                for await event in qmp.events {
                    switch event.name {
                    case "SHUTDOWN":
                        let guest = event.data["guest"]?.boolValue ?? false
                        self.endings.withLock { $0[id] = guest ? .guestShutdown : .other }
                    case "STOP", "RESUME":
                        await self.reportPaused(key: key, paused: event.name == "STOP")
                    default:
                        break
                    }
                }
                self.clients.withLock { _ = $0.removeValue(forKey: id) }
                qmp.close()
                // Give runc a moment to see the process gone before the pod is examined.
                try? await Task.sleep(for: .milliseconds(200))
                await self.queue.add(key)
            }
            monitors[id] = task
            return task
        }
        _ = newTask
    }

    // MARK: - Requests carried on the VMI

    /// `pause`/`unpause` and `softreboot` arrive as annotations the API server writes on the VMI.
    func applyRequests(pod: JSONValue, id: String) async throws {
        guard let vmiPath = ownerVMI(pod), let name = vmiPath.name else { return }
        let vmi = vmis?.cache.get(ObjectKey(namespace: vmiPath.namespace, name: name))
        guard let annotations = vmi?[path: ["metadata", "annotations"]]?.objectValue else { return }
        guard let qmp = clients.withLock({ $0[id] }) else { return }
        if let wanted = annotations[Self.pauseAnnotation]?.stringValue {
            let status = try await qmp.queryStatus()
            if wanted == "true", status.running {
                try await qmp.stop()
            } else if wanted == "false", !status.running, status.status == "paused" {
                try await qmp.cont()
            }
        }
        if annotations[Self.softRebootAnnotation] != nil {
            // Ctrl-Alt-Delete: the guest's own orderly reboot.
            _ = try await qmp.execute("send-key", arguments: ["keys": [["type": "qcode", "data": "ctrl"], ["type": "qcode", "data": "alt"], ["type": "qcode", "data": "delete"]]])
            _ = try await client.patch(vmiPath, body: ["metadata": ["annotations": [.init(stringLiteral: Self.softRebootAnnotation): nil]]], contentType: .merge)
        }
    }

    /// `"true"` to pause, `"false"` to run (written by the API server's pause/unpause subresources).
    public static let pauseAnnotation = "swiftvirt.io/paused"
    /// Present while a soft reboot is wanted; the agent removes it once the guest was asked.
    public static let softRebootAnnotation = "swiftvirt.io/softreboot-requested"

    // MARK: - Stop

    /// ACPI power button, then wait up to `grace`, then kill.
    func shutDown(_ id: String, grace: Duration) async throws {
        guard let state = try await sandbox.status(id), state.isAlive else {
            try await stopSandbox(id, grace: .seconds(0))
            return
        }
        if grace > .zero, let qmp = clients.withLock({ $0[id] }) {
            try? await qmp.systemPowerdown()
            let deadline = ContinuousClock.now + grace
            while ContinuousClock.now < deadline, let current = try await sandbox.status(id), current.isAlive {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        try await stopSandbox(id, grace: .seconds(0))
    }

    func stopSandbox(_ id: String, grace: Duration) async throws {
        monitors.withLock { $0.removeValue(forKey: id)?.cancel() }
        guard try await sandbox.status(id) != nil || FileManager.default.fileExists(atPath: sandbox.bundle(for: id).path) else { return }
        try await sandbox.stop(id, options: .init(grace: grace, killTimeout: .seconds(10)))
    }

    // MARK: - Status

    func vmiPath(_ namespace: String, _ name: String) -> ResourcePath {
        ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachineinstances", namespace: namespace, name: name)
    }

    func podPath(_ pod: JSONValue) -> ResourcePath {
        .core("pods", namespace: pod[path: ["metadata", "namespace"]]?.stringValue, name: pod[path: ["metadata", "name"]]?.stringValue)
    }

    func ownerVMI(_ pod: JSONValue) -> ResourcePath? {
        guard let name = pod[path: ["metadata", "ownerReferences"]]?.arrayValue?.first(where: { $0["kind"]?.stringValue == "VirtualMachineInstance" })?["name"]?.stringValue
        else { return nil }
        return vmiPath(pod[path: ["metadata", "namespace"]]?.stringValue ?? "default", name)
    }

    /// Reads, changes and writes a status, again on conflict.
    func updateStatus(_ path: ResourcePath, _ change: (inout JSONValue) -> Bool) async throws {
        for _ in 0..<5 {
            var object: JSONValue
            do {
                object = try await client.get(path)
            } catch {
                if error.code == .notFound { return }
                throw error
            }
            guard change(&object) else { return }
            do {
                _ = try await client.update(path.subresource("status"), body: object)
                return
            } catch {
                if error.code == .conflict { continue }
                if error.code == .notFound { return }
                throw error
            }
        }
    }

    func reportRunning(pod: JSONValue) async throws {
        // The pod's and the VMI's status are independent writes: send them together.
        async let podReported: Void = reportPodRunning(pod)
        try await reportVMIRunning(pod)
        try await podReported
    }

    func reportPodRunning(_ pod: JSONValue) async throws {
        let now = JSONValue.string(Date().formatted(.iso8601))
        try await updateStatus(podPath(pod)) { pod in
            if pod[path: ["status", "phase"]]?.stringValue == "Running" { return false }
            pod[path: ["status", "phase"]] = "Running"
            pod[path: ["status", "startTime"]] = now
            pod[path: ["status", "hostIP"]] = "127.0.0.1"
            pod[path: ["status", "conditions"]] = [
                ["type": "PodScheduled", "status": "True", "lastTransitionTime": now],
                ["type": "Initialized", "status": "True", "lastTransitionTime": now],
                ["type": "ContainersReady", "status": "True", "lastTransitionTime": now],
                ["type": "Ready", "status": "True", "lastTransitionTime": now],
            ]
            pod[path: ["status", "containerStatuses"]] = [
                ["name": "compute", "ready": true, "started": true, "restartCount": 0, "image": "qemu-system-x86_64",
                 "state": ["running": ["startedAt": now]]],
            ]
            return true
        }
    }

    func reportVMIRunning(_ pod: JSONValue) async throws {
        let now = JSONValue.string(Date().formatted(.iso8601))
        guard let vmiPath = ownerVMI(pod) else { return }
        let nodeName = configuration.nodeName
        try await updateStatus(vmiPath) { vmi in
            if vmi[path: ["status", "phase"]]?.stringValue == "Running" { return false }
            vmi[path: ["status", "phase"]] = "Running"
            vmi[path: ["status", "nodeName"]] = .string(nodeName)
            var transitions = vmi[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue ?? []
            transitions.append(["phase": "Running", "phaseTransitionTimestamp": now])
            vmi[path: ["status", "phaseTransitionTimestamps"]] = .array(transitions)
            let uid = vmi[path: ["metadata", "uid"]]?.stringValue ?? ""
            let interfaces: [JSONValue] = (vmi[path: ["spec", "domain", "devices", "interfaces"]]?.arrayValue ?? []).compactMap { interface in
                guard let name = interface["name"]?.stringValue else { return nil }
                let mac = interface["macAddress"]?.stringValue ?? QEMUCommand.generatedMACAddress(vmiUID: uid, interfaceName: name)
                return ["name": .string(name), "mac": .string(mac), "infoSource": "domain"]
            }
            vmi[path: ["status", "interfaces"]] = .array(interfaces)
            var conditions = (vmi[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Ready" }
            conditions.append(["type": "Ready", "status": "True", "lastProbeTime": nil, "lastTransitionTime": now])
            vmi[path: ["status", "conditions"]] = .array(conditions)
            return true
        }
    }

    func reportPaused(key: ObjectKey, paused: Bool) async {
        guard let pod = pods.cache.get(key), let vmiPath = ownerVMI(pod) else { return }
        let now = JSONValue.string(Date().formatted(.iso8601))
        try? await updateStatus(vmiPath) { vmi in
            var conditions = (vmi[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Paused" }
            if paused {
                conditions.append(["type": "Paused", "status": "True", "reason": "PausedByUser", "lastProbeTime": nil, "lastTransitionTime": now])
            }
            vmi[path: ["status", "conditions"]] = .array(conditions)
            return true
        }
    }

    func reportEnded(pod: JSONValue, succeeded: Bool, message: String? = nil) async throws {
        let phase: JSONValue = succeeded ? "Succeeded" : "Failed"
        try await updateStatus(podPath(pod)) { pod in
            pod[path: ["status", "phase"]] = phase
            if let message { pod[path: ["status", "message"]] = .string(message) }
            pod[path: ["status", "containerStatuses"]] = [
                ["name": "compute", "ready": false, "restartCount": 0, "image": "qemu-system-x86_64",
                 "state": ["terminated": ["exitCode": succeeded ? 0 : 137, "reason": succeeded ? "Completed" : "Error"]]],
            ]
            var conditions = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Ready" }
            conditions.append(["type": "Ready", "status": "False"])
            pod[path: ["status", "conditions"]] = .array(conditions)
            return true
        }
    }

    // MARK: - Finalizer

    func addFinalizer(_ pod: JSONValue) async throws {
        let finalizers = pod[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if finalizers.contains(.string(Self.finalizer)) { return }
        _ = try await client.patch(podPath(pod), body: ["metadata": ["finalizers": .array(finalizers + [.string(Self.finalizer)])]], contentType: .merge)
    }

    func removeFinalizer(_ pod: JSONValue) async throws {
        let finalizers = pod[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        guard finalizers.contains(.string(Self.finalizer)) else { return }
        let kept = finalizers.filter { $0 != .string(Self.finalizer) }
        do {
            _ = try await client.patch(podPath(pod), body: ["metadata": ["finalizers": kept.isEmpty ? .null : .array(kept)]], contentType: .merge)
        } catch {
            if error.code != .notFound { throw error }
        }
    }
}
