import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtError
import VirtQEMU
import VirtReconcile
import VirtRuntime

/// The node agent's core, keyed by VMI as KubeVirt's virt-handler is: for every VMI that concerns this
/// node — it runs here, or migrates here or away from here — it brings the guest in the VMI's launcher
/// pod(s) on this node to what the VMI asks, and reports what it sees. Level-based: each pass looks at the
/// VMI, its pods, the sandbox and QEMU, so a restarted agent re-adopts running guests instead of
/// restarting them.
///
/// What it owns per VMI is a ``VirtualMachineState`` (phase, role, how QEMU ended) and a monitor session.
/// Every runtime is injected: the pod runtime (runc), the volume provider, the network attacher and the
/// guest monitor (QMP), so unit tests drive the agent against fakes.
///
/// It writes, as the design doc's table says: the VMI's phase from `Scheduled` on (`Running`,
/// `Succeeded`, `Failed`) with its transition timestamps, `status.interfaces`, the `Paused` condition and
/// `Synchronized` once the VMI is scheduled; the pod's status (as a kubelet does) and its finalizer.
public final class VirtualMachineHandler: Reconciler, Sendable {
    public struct Configuration: Sendable {
        public var nodeName: String
        /// The node's InternalIP, reported as its pods' `hostIP`.
        public var nodeAddress: String
        public var accelerator: LaunchContext.Accelerator
        /// Waited for after a failed preparation (an image that cannot be had) before trying again.
        public var retryAfter: Duration
        /// Where this node's local and shared PersistentVolumes live.
        public var volumeDirectories: VolumeDirectories

        public init(nodeName: String, nodeAddress: String = "127.0.0.1", accelerator: LaunchContext.Accelerator, retryAfter: Duration = .seconds(10),
                    volumeDirectories: VolumeDirectories = VolumeDirectories()) {
            self.nodeName = nodeName
            self.nodeAddress = nodeAddress
            self.accelerator = accelerator
            self.retryAfter = retryAfter
            self.volumeDirectories = volumeDirectories
        }
    }

    /// The runtimes the handler drives.
    public struct Runtimes: Sendable {
        public var pods: any PodRuntime
        public var volumes: any VolumeProvider
        public var networks: any NetworkAttacher
        public var monitors: any GuestMonitorConnector

        public init(pods: any PodRuntime, volumes: any VolumeProvider, networks: any NetworkAttacher, monitors: any GuestMonitorConnector) {
            self.pods = pods
            self.volumes = volumes
            self.networks = networks
            self.monitors = monitors
        }
    }

    let client: any APIClient
    /// VMIs (all of them; the handler picks those that concern this node).
    let vmis: ObjectCache
    /// Pods bound to this node.
    let pods: ObjectCache
    let queue: WorkQueue<ObjectKey>
    let runtimes: Runtimes
    let recorder: EventRecorder
    let configuration: Configuration
    let now: @Sendable () -> Date
    let logger: Logger
    let registry = Registry()

    public init(
        client: any APIClient, vmis: ObjectCache, pods: ObjectCache, queue: WorkQueue<ObjectKey>, runtimes: Runtimes,
        recorder: EventRecorder, configuration: Configuration, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.client = client
        self.vmis = vmis
        self.pods = pods
        self.queue = queue
        self.runtimes = runtimes
        self.recorder = recorder
        self.configuration = configuration
        self.now = now
        self.logger = logger
    }

    var nodeName: String { configuration.nodeName }

    // MARK: - Which VMIs concern this node

    /// Whether the VMI is this node's business: it runs here, or a migration has this node as source or
    /// target. (Pods bound here reach the handler through their owner key whatever this says.)
    public static func concerns(_ vmi: JSONValue, nodeName: String) -> Bool {
        if vmi[path: ["status", "nodeName"]]?.stringValue == nodeName { return true }
        let migration = vmi[path: ["status", "migrationState"]]
        return migration?["targetNode"]?.stringValue == nodeName || migration?["sourceNode"]?.stringValue == nodeName
    }

    /// The role this node plays with `pod` for `vmi`.
    static func role(of pod: JSONValue, vmi: VirtualMachineInstance, nodeName: String) -> VirtualMachineState.Role {
        let migration = vmi.status?.migrationState
        let podName = pod.metadataName
        if let target = migration?["targetPod"]?.stringValue, target == podName { return .target }
        if pod.metadataLabels[KubeVirt.migrationJobLabel] != nil, vmi.status?.nodeName != nodeName { return .target }
        if migration?["sourceNode"]?.stringValue == nodeName, migration?["completed"]?.boolValue != true { return .source }
        return .none
    }

    // MARK: - Reconcile

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let local = pods.list(namespace: key.namespace).filter { $0.controllingVMIKey == key }
        var cached = vmis.get(key)
        if cached == nil, !local.isEmpty {
            // The two watches run apart: before stopping a pod's guest, ask the API whether its VMI is gone.
            cached = try await getIfPresent(KubeVirt.virtualMachineInstances.inNamespace(key.namespace).named(key.name))
        }
        guard let object = cached, let uid = object.metadataUID else {
            // The VMI is gone: nothing of it may run here any more.
            for pod in local { try await release(pod) }
            registry.forget(name: key)
            return .done
        }
        let vmi: VirtualMachineInstance
        do {
            vmi = try object.decoded()
        } catch {
            throw TerminalError("VirtualMachineInstance \(key) does not decode", cause: error)
        }
        var result = ReconcileResult.done
        var handled = false
        for pod in local {
            guard pod.isControlled(byUID: uid) else {
                // A pod of an earlier VMI of the same name.
                try await release(pod)
                continue
            }
            handled = true
            let role = Self.role(of: pod, vmi: vmi, nodeName: nodeName)
            let outcome = role == .target
                ? try await reconcileTarget(pod: pod, vmi: vmi, object: object, key: key)
                : try await reconcileGuest(pod: pod, vmi: vmi, object: object, key: key, role: role)
            result = result.merged(with: outcome)
        }
        if !handled, Self.concerns(object, nodeName: nodeName) {
            try await reconcileWithoutPod(vmi: vmi, object: object, key: key)
        }
        return result
    }

    /// One pass over the guest in `pod`, which runs here (role none or source).
    func reconcileGuest(pod: JSONValue, vmi: VirtualMachineInstance, object: JSONValue, key: ObjectKey, role: VirtualMachineState.Role) async throws -> ReconcileResult {
        let uid = object.metadataUID ?? ""
        let podName = pod.metadataName ?? ""
        let id = PodSandboxSpec.containerID(namespace: key.namespace ?? "default", name: podName)
        var state = registry.state(uid) ?? VirtualMachineState(podName: podName, role: role)
        state.role = role
        registry.save(uid, name: key, state)
        defer { registry.save(uid, name: key, state) }
        let sandbox = try await runtimes.pods.status(id)
        let podPhase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"

        if pod.metadataDeletionTimestamp != nil {
            let grace = pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
            if let waiting = try await shutDown(id: id, uid: uid, state: &state, grace: .seconds(Int(grace)), running: sandbox?.isAlive == true) {
                return waiting
            }
            try await reportEnded(pod: pod, key: key, uid: uid, state: state, reason: "the virt-launcher pod was deleted")
            try await removeFinalizer(pod)
            return .done
        }
        if podPhase == "Succeeded" || podPhase == "Failed" || KubeVirt.Phase.isFinal(vmi.status?.phase) {
            if sandbox != nil { try await stopSandbox(id: id, uid: uid, grace: .zero) }
            // A pod that ended says how (after an agent restart nothing else remembers).
            let outcome: Bool? = podPhase == "Succeeded" ? true : podPhase == "Failed" ? false : nil
            if !state.phase.isFinal { try state.move(to: (outcome ?? (state.ending == .guestShutdown)) ? .stopped : .failed) }
            try await reportEnded(pod: pod, key: key, uid: uid, state: state, reason: state.failure?.message, failure: state.failure, succeeded: outcome)
            return .done
        }
        if let sandbox, sandbox.isAlive, let runState = registry.runState(uid), Self.isFatal(runState: runState) {
            // QEMU lives on, but its guest cannot: end it and say why.
            let output = runtimes.pods.errorOutput(of: id)
            state.ending = Self.ending(forRunState: runState)
            try await stopSandbox(id: id, uid: uid, grace: .zero)
            if !state.phase.isFinal { try state.move(to: .failed) }
            let why = Self.describe(state.ending) ?? "QEMU ended"
            try await reportEnded(pod: pod, key: key, uid: uid, state: state, reason: output.isEmpty ? why : "\(why); QEMU said: \(output)")
            return .done
        }
        if let sandbox, sandbox.isAlive {
            if state.phase == .idle || state.phase == .preparing || state.phase == .starting {
                // Adopted after an agent restart, or just started: the monitor tells paused from running.
                if state.phase == .idle {
                    do {
                        try await runtimes.networks.resume(Self.withStableIdentity(vmi), sandboxID: id)
                    } catch {
                        logger.warning("\(key): the guest's DHCP answers could not be set up again: \(error)")
                    }
                }
                try state.move(to: sandbox.status == .paused ? .paused : .running)
            }
            attachMonitor(id: id, uid: uid, key: key)
            try await reportRunning(pod: pod, vmi: vmi, object: object, key: key, state: state)
            return .done
        }
        if sandbox != nil || podPhase == "Running" || [.starting, .running, .paused, .stopping].contains(state.phase) {
            // QEMU is gone while the pod says it should run: say how it ended.
            if registry.session(uid) != nil {
                // The monitor has not seen the end of its stream yet (and with it the SHUTDOWN that says
                // whether the guest powered off): look again in a moment.
                return .requeue(after: .milliseconds(200))
            }
            let ending = registry.ending(uid) ?? state.ending
            state.ending = ending
            try await stopSandbox(id: id, uid: uid, grace: .zero)
            if !state.phase.isFinal { try state.move(to: ending == .guestShutdown ? .stopped : .failed) }
            try await reportEnded(pod: pod, key: key, uid: uid, state: state, reason: nil)
            return .done
        }
        if state.phase.isFinal {
            // A launch failed here and its report did not get through: report again; never start anew in this pod.
            try await reportEnded(pod: pod, key: key, uid: uid, state: state, reason: state.failure?.message, failure: state.failure)
            return .done
        }
        // Not started yet: the controllers hand the VMI over once it is Scheduled to this node.
        guard vmi.status?.phase == KubeVirt.Phase.scheduled, vmi.status?.nodeName == nodeName else { return .done }
        return try await start(pod: pod, vmi: vmi, object: object, key: key, id: id, uid: uid, state: &state)
    }

    /// A VMI scheduled or running here whose pod is not on this node any more.
    func reconcileWithoutPod(vmi: VirtualMachineInstance, object: JSONValue, key: ObjectKey) async throws {
        guard let uid = object.metadataUID, vmi.status?.nodeName == nodeName,
              [KubeVirt.Phase.scheduled, KubeVirt.Phase.running].contains(vmi.status?.phase ?? "")
        else { return }
        // The caches are fed by two watches: ask the API before calling the pod gone.
        let live = try await client.list(KubeVirt.pods.inNamespace(key.namespace), labelSelector: "\(KubeVirt.createdByLabel)=\(uid)", fieldSelector: nil)
        let present = (live["items"]?.arrayValue ?? []).contains { $0.isControlled(byUID: uid) && $0.metadataDeletionTimestamp == nil }
        guard !present else { return }
        registry.stopMonitor(uid)
        var failed = false
        try await writeVMIStatus(key: key, uid: uid) { status in
            guard !KubeVirt.Phase.isFinal(status.phase) else { return }
            self.setPhase(&status, KubeVirt.Phase.failed)
            status.reason = "PodDisappeared"
            failed = true
        }
        if failed {
            await recorder.record(object, .warning, reason: "Failed", message: "The virt-launcher pod disappeared; the VirtualMachineInstance has failed")
        }
    }

    /// A pod of a VMI that is gone (or of an earlier VMI of the same name): stop what runs and let the pod go.
    func release(_ pod: JSONValue) async throws {
        let id = PodSandboxSpec.containerID(namespace: pod.metadataNamespace ?? "default", name: pod.metadataName ?? "")
        if let uid = pod.metadataLabels[KubeVirt.createdByLabel] { registry.stopMonitor(uid) }
        // Before the sandbox (and with it the state directory that remembers them) goes: its loop devices.
        try await runtimes.volumes.release(stateDirectory: runtimes.pods.stateDirectory(of: id))
        try await runtimes.pods.stop(id, grace: .zero)
        try await runtimes.networks.detach(sandboxID: id)
        try await removeFinalizer(pod)
    }

    // MARK: - Stop

    /// ACPI power button, up to `grace` for the guest to power off, then the sandbox is killed and removed.
    /// The wait is not spent in the pass: the first pass asks the guest and returns a requeue; the pass
    /// after QEMU exited (its monitor's end wakes one) or after the deadline finishes the job. Returns
    /// `nil` once the sandbox is gone.
    func shutDown(id: String, uid: String, state: inout VirtualMachineState, grace: Duration, running: Bool) async throws -> ReconcileResult? {
        if running, grace > .zero {
            if state.stopDeadline == nil {
                var session = registry.session(uid)
                if session == nil {
                    // Adopted after an agent restart and not followed yet: open the monitor to ask the guest first.
                    session = try? await runtimes.monitors.connect(socketPath: runtimes.pods.stateDirectory(of: id) + "/" + PodFiles.qmpSocket, timeout: .seconds(2))
                    if let session { registry.update(uid) { $0.session = session } }
                }
                if let session {
                    if !state.phase.isFinal { try state.move(to: .stopping) }
                    try? await session.systemPowerdown()
                    state.stopDeadline = ContinuousClock.now + grace
                }
            }
            if let deadline = state.stopDeadline, ContinuousClock.now < deadline {
                return .requeue(after: min(.seconds(1), deadline - ContinuousClock.now))
            }
        }
        state.ending = registry.ending(uid) ?? state.ending ?? .hostShutdown
        try await stopSandbox(id: id, uid: uid, grace: .zero)
        if !state.phase.isFinal { try state.move(to: state.ending == .guestShutdown ? .stopped : .failed) }
        return nil
    }

    func stopSandbox(id: String, uid: String, grace: Duration) async throws {
        registry.stopMonitor(uid)
        // Loop devices are detached first: one QEMU still holds goes when QEMU closes it.
        try await runtimes.volumes.release(stateDirectory: runtimes.pods.stateDirectory(of: id))
        try await runtimes.pods.stop(id, grace: grace)
        try await runtimes.networks.detach(sandboxID: id)
    }

    // MARK: - Finalizer

    func addFinalizer(_ pod: JSONValue) async throws {
        let finalizers = pod.metadataFinalizers
        if finalizers.contains(KubeVirt.nodeAgentFinalizer) { return }
        _ = try await client.patch(podPath(pod), mergePatch: ["metadata": ["finalizers": .array((finalizers + [KubeVirt.nodeAgentFinalizer]).map { .string($0) })]])
    }

    func removeFinalizer(_ pod: JSONValue) async throws {
        let finalizers = pod.metadataFinalizers
        guard finalizers.contains(KubeVirt.nodeAgentFinalizer) else { return }
        let kept = finalizers.filter { $0 != KubeVirt.nodeAgentFinalizer }
        do {
            _ = try await client.patch(podPath(pod), mergePatch: ["metadata": ["finalizers": kept.isEmpty ? .null : .array(kept.map { .string($0) })]])
        } catch {
            if error.code != .notFound { throw error }
        }
    }

    func podPath(_ pod: JSONValue) -> ResourcePath {
        KubeVirt.pods.inNamespace(pod.metadataNamespace).named(pod.metadataName ?? "")
    }
}

extension VirtualMachineHandler {
    /// What the handler keeps per VMI between passes: its ``VirtualMachineState``, the monitor session and
    /// the task following its events. Keyed by VMI UID, so a VMI re-created under the same name starts over.
    final class Registry: Sendable {
        struct Entry: Sendable {
            var state: VirtualMachineState?
            var name: ObjectKey?
            var session: (any GuestMonitor)?
            var follower: Task<Void, Never>?
            /// How QEMU ended, told by its last events (the follower writes it; a pass reads it).
            var ending: VirtualMachineState.Ending?
            /// QEMU's run state after its last STOP/RESUME event.
            var runState: String?
            /// Whether the user paused the guest (the pause verb), as opposed to QEMU stopping it.
            var pausedByUser = false
            /// Which follower is the current one.
            var followerToken = 0
        }

        private let entries = Mutex<[String: Entry]>([:])

        func state(_ uid: String) -> VirtualMachineState? { entries.withLock { $0[uid]?.state } }

        func save(_ uid: String, name: ObjectKey, _ state: VirtualMachineState) {
            entries.withLock { entries in
                entries[uid, default: Entry()].state = state
                entries[uid, default: Entry()].name = name
            }
        }

        func session(_ uid: String) -> (any GuestMonitor)? { entries.withLock { $0[uid]?.session } }

        func ending(_ uid: String) -> VirtualMachineState.Ending? { entries.withLock { $0[uid]?.ending } }

        func runState(_ uid: String) -> String? { entries.withLock { $0[uid]?.runState } }

        func pausedByUser(_ uid: String) -> Bool { entries.withLock { $0[uid]?.pausedByUser ?? false } }

        /// Changes the entry of a VMI the registry knows (a VMI forgotten meanwhile stays forgotten).
        func update(_ uid: String, _ change: (inout Entry) -> Void) {
            entries.withLock { entries in
                guard var entry = entries[uid] else { return }
                change(&entry)
                entries[uid] = entry
            }
        }

        /// Starts `make(token)` as the VMI's follower unless one runs; returns whether it started one. The
        /// token tells the follower's own entry from a later one's when it cleans up.
        func startFollower(_ uid: String, name: ObjectKey, _ make: (Int) -> Task<Void, Never>) -> Bool {
            entries.withLock { entries in
                if let existing = entries[uid]?.follower, !existing.isCancelled { return false }
                var entry = entries[uid] ?? Entry()
                entry.name = name
                entry.followerToken += 1
                entry.follower = make(entry.followerToken)
                entries[uid] = entry
                return true
            }
        }

        /// Ends the follower's part: its session and task, unless a newer follower took over.
        func followerEnded(_ uid: String, token: Int) {
            entries.withLock { entries in
                guard entries[uid]?.followerToken == token else { return }
                entries[uid]?.session = nil
                entries[uid]?.follower = nil
            }
        }

        /// Ends the monitor session and its follower.
        func stopMonitor(_ uid: String) {
            let (session, follower) = entries.withLock { entries -> ((any GuestMonitor)?, Task<Void, Never>?) in
                let entry = entries[uid]
                entries[uid]?.session = nil
                entries[uid]?.follower = nil
                return (entry?.session, entry?.follower)
            }
            follower?.cancel()
            session?.close()
        }

        /// Drops everything about the VMIs of this name.
        func forget(name: ObjectKey) {
            let removed = entries.withLock { entries -> [Entry] in
                let uids = entries.filter { $0.value.name == name }.map(\.key)
                return uids.compactMap { entries.removeValue(forKey: $0) }
            }
            for entry in removed {
                entry.follower?.cancel()
                entry.session?.close()
            }
        }

        var count: Int { entries.withLock { $0.count } }
    }
}
