import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// Reconciles VirtualMachineInstances (KubeVirt's VMI controller): creates each VMI's launcher pod and
/// moves the VMI through `Pending → Scheduling → Scheduled` as the pod is created and bound. From
/// `Scheduled` on, the phase belongs to the node agent of `status.nodeName` (`Running`, `Succeeded`,
/// `Failed`), which sees QEMU; this controller fails a VMI only while it is still its own: a pod that
/// fails or disappears under a `Scheduling` VMI. Every phase change it makes appends to
/// `status.phaseTransitionTimestamps`. Who writes which status field is the table in
/// `docs/ARCHITECTURE.md`.
///
/// Also maintained: `status.nodeName` (when the pod is bound), `status.activePods` (pod UID → node), the
/// `Ready` condition (from the pod, as KubeVirt derives it), the pod's `PodScheduled=False` condition
/// copied while scheduling (so the VM shows `ErrorUnschedulable` with the scheduler's message), and
/// `Synchronized=False` while the launcher pod cannot be created.
///
/// Deletion: the VMI carries the finalizer `kubevirt.io/foregroundDeleteVirtualMachine`; when it is
/// deleted, its pods are deleted (with the VMI's grace period: the node agent shuts the guest down over
/// ACPI, then kills QEMU) and the finalizer is removed once no pod is left, so a VM controller waiting
/// for the VMI to go knows QEMU's pod is gone.
public struct VirtualMachineInstanceController: Reconciler {
    /// Cluster-wide settings.
    public struct Configuration: Sendable, Equatable {
        /// Whether launcher pods ask for KVM.
        public var emulation: EmulationMode
        /// Launcher pods select nodes labelled `kubevirt.io/schedulable: "true"`.
        public var requireSchedulableNodeLabel: Bool
        /// vCPUs per requested CPU when a VMI requests none.
        public var cpuAllocationRatio: Int
        /// The launcher container's image, if any.
        public var launcherImage: String?

        public init(emulation: EmulationMode = .auto, requireSchedulableNodeLabel: Bool = true, cpuAllocationRatio: Int = 10, launcherImage: String? = nil) {
            self.emulation = emulation
            self.requireSchedulableNodeLabel = requireSchedulableNodeLabel
            self.cpuAllocationRatio = cpuAllocationRatio
            self.launcherImage = launcherImage
        }
    }

    let client: any APIClient
    let vmis: ObjectCache
    let pods: ObjectCache
    let nodes: ObjectCache
    /// DataVolumes, for VMIs with `dataVolume` volumes (nil: none are waited for).
    let dataVolumes: ObjectCache?
    let recorder: EventRecorder
    let configuration: Configuration
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        client: any APIClient, vmis: ObjectCache, pods: ObjectCache, nodes: ObjectCache, dataVolumes: ObjectCache? = nil, recorder: EventRecorder,
        configuration: Configuration = Configuration(), now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.client = client
        self.dataVolumes = dataVolumes
        self.vmis = vmis
        self.pods = pods
        self.nodes = nodes
        self.recorder = recorder
        self.configuration = configuration
        self.now = now
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var object = vmis.get(key), let uid = object.metadataUID else { return .done }
        let vmi: VirtualMachineInstance
        do {
            vmi = try object.decoded()
        } catch {
            throw TerminalError("VirtualMachineInstance \(key) does not decode", cause: error)
        }
        let path = KubeVirt.virtualMachineInstances.inNamespace(key.namespace).named(key.name)
        let owned = pods.list(namespace: key.namespace).filter { $0.isControlled(byUID: uid) }

        if object.metadataDeletionTimestamp != nil {
            try await finalize(object, vmi: vmi, pods: owned, path: path)
            return .done
        }

        let oldStatus = vmi.status
        var status = vmi.status ?? VirtualMachineInstanceStatus()
        let timestamp = KubeTime.format(now())
        var events: [(EventRecorder.EventType, String, String)] = []
        var failure: VirtError?

        if !KubeVirt.Phase.isFinal(status.phase), !object.metadataFinalizers.contains(KubeVirt.vmiFinalizer) {
            var patch: JSONValue = ["metadata": ["finalizers": .array((object.metadataFinalizers + [KubeVirt.vmiFinalizer]).map { .string($0) })]]
            if let version = object.metadataResourceVersion { patch[path: ["metadata", "resourceVersion"]] = .string(version) }
            object = try await client.patch(path, mergePatch: patch)
        }

        var pod = Self.launcherPod(among: owned, vmiName: key.name, uid: uid)
        let unprocessed = (status.phase ?? "").isEmpty || status.phase == KubeVirt.Phase.pending
        var conditions = ConditionList(status.conditions)
        if unprocessed, pod == nil, !dataVolumesReady(vmi, namespace: key.namespace) {
            // KubeVirt's rule: the pod waits for the VMI's DataVolumes (the DataVolume informer wakes the VMI).
        } else if unprocessed, pod == nil {
            do {
                let created = try await createPod(for: vmi, key: key)
                pod = created
                conditions.remove(KubeVirt.ConditionType.synchronized)
                events.append((.normal, "SuccessfulCreate", "Created virtual machine pod \(created.metadataName ?? "")"))
            } catch {
                failure = error
                let message = error.message
                conditions.set(Condition(type: KubeVirt.ConditionType.synchronized, status: "False", reason: "FailedCreate", message: message),
                               now: timestamp)
                events.append((.warning, "FailedCreate", "Error creating pod: \(message)"))
            }
        }
        let podObject = pod
        let typedPod = try? podObject?.decoded(as: Pod.self)

        // Phase machine, stepped until it settles (a VMI seen for the first time with a bound pod goes
        // Pending → Scheduling → Scheduled in one pass, recording each step).
        var phase = status.phase ?? ""
        for _ in 0..<4 {
            let next = Self.nextPhase(phase, pod: typedPod, podExists: podObject != nil)
            guard next != phase else { break }
            if !next.isEmpty {
                var transitions = status.phaseTransitionTimestamps ?? []
                transitions.append(PhaseTransitionTimestamp(phase: next, phaseTransitionTimestamp: timestamp))
                status.phaseTransitionTimestamps = transitions
                if let event = Self.transitionEvent(to: next, pod: typedPod, podExists: podObject != nil) { events.append(event) }
            }
            phase = next
        }
        status.phase = phase.isEmpty ? nil : phase

        if let typedPod, let nodeName = typedPod.spec?.nodeName, !nodeName.isEmpty,
           [KubeVirt.Phase.scheduled, KubeVirt.Phase.running].contains(phase), status.nodeName == nil
        {
            status.nodeName = nodeName
        }

        // PodScheduled: mirrored from the pod while scheduling.
        if phase == KubeVirt.Phase.scheduling || phase == KubeVirt.Phase.pending {
            let podCondition = typedPod?.status?.conditions?.first { $0.type == KubeVirt.ConditionType.podScheduled && $0.status == "False" }
            if var podCondition {
                let previous = conditions.get(KubeVirt.ConditionType.podScheduled)
                if previous?.message != podCondition.message || previous?.status != podCondition.status, podCondition.reason == "Unschedulable" {
                    events.append((.warning, "FailedScheduling", podCondition.message ?? "the virt-launcher pod could not be scheduled"))
                }
                podCondition.lastHeartbeatTime = nil
                podCondition.lastUpdateTime = nil
                podCondition.observedGeneration = nil
                conditions.set(podCondition, now: timestamp)
            } else {
                conditions.remove(KubeVirt.ConditionType.podScheduled)
            }
        } else if phase == KubeVirt.Phase.scheduled || phase == KubeVirt.Phase.running {
            conditions.remove(KubeVirt.ConditionType.podScheduled)
        }

        Self.syncReadyCondition(&conditions, phase: phase, pod: typedPod, podExists: podObject != nil, now: timestamp)
        if let dataVolumesReady = dataVolumesReadyCondition(vmi, namespace: key.namespace) {
            let existing = conditions.get(dataVolumesReady.type)
            if existing?.status != dataVolumesReady.status || existing?.reason != dataVolumesReady.reason { conditions.set(dataVolumesReady, now: timestamp) }
        }
        status.conditions = conditions.value

        if !owned.isEmpty || pod != nil || status.activePods != nil {
            var active: [String: String] = [:]
            for candidate in owned + (pod.map { [$0] } ?? []) {
                if let podUID = candidate.metadataUID { active[podUID] = candidate[path: ["spec", "nodeName"]]?.stringValue ?? "" }
            }
            status.activePods = active
        }

        if status != (oldStatus ?? VirtualMachineInstanceStatus()) {
            let updated = try object.replacingStatus(from: oldStatus, to: status)
            if updated != object {
                object = try await client.updateStatus(path, body: updated)
            }
        }
        for (type, reason, message) in events {
            await recorder.record(object, type, reason: reason, message: message)
        }
        if let failure {
            if failure.code == .invalid {
                throw TerminalError("cannot create the launcher pod of \(key)", cause: failure)
            }
            throw failure
        }
        return .done
    }

    // MARK: - Phases

    /// The phase a VMI moves to from `phase`, given its launcher pod (pure). Only the phases before the
    /// node agent takes over move here: from `Scheduled` on, the agent writes the phase.
    public static func nextPhase(_ phase: String, pod: Pod?, podExists: Bool) -> String {
        let podPhase = pod?.status?.phase
        let podDown = pod?.metadata?.deletionTimestamp != nil || podPhase == "Failed" || podPhase == "Succeeded"
        let bound = !(pod?.spec?.nodeName ?? "").isEmpty
        switch phase {
        case "":
            return KubeVirt.Phase.pending
        case KubeVirt.Phase.pending:
            return podExists ? KubeVirt.Phase.scheduling : KubeVirt.Phase.pending
        case KubeVirt.Phase.scheduling:
            if !podExists || podDown { return KubeVirt.Phase.failed }
            return bound ? KubeVirt.Phase.scheduled : KubeVirt.Phase.scheduling
        default:
            return phase
        }
    }

    static func transitionEvent(to phase: String, pod: Pod?, podExists: Bool) -> (EventRecorder.EventType, String, String)? {
        let podName = pod?.metadata?.name ?? "virt-launcher"
        switch phase {
        case KubeVirt.Phase.scheduled:
            return (.normal, "Scheduled", "VirtualMachineInstance scheduled to node \(pod?.spec?.nodeName ?? "")")
        case KubeVirt.Phase.failed:
            if !podExists { return (.warning, "Failed", "The virt-launcher pod disappeared; the VirtualMachineInstance has failed") }
            if pod?.metadata?.deletionTimestamp != nil {
                return (.warning, "Failed", "The virt-launcher pod \(podName) is being deleted; the VirtualMachineInstance has failed")
            }
            return (.warning, "Failed", "The virt-launcher pod \(podName) failed\(pod?.status?.message.map { ": \($0)" } ?? "")")
        default:
            return nil
        }
    }

    /// KubeVirt's Ready condition: False while there is no pod, the pod is going down, or the guest is
    /// not running; else the pod's own Ready condition. A pod without a Ready condition counts as ready
    /// when its phase is `Running` (SwiftVirt's node agent may not report pod conditions).
    static func syncReadyCondition(_ conditions: inout ConditionList, phase: String, pod: Pod?, podExists: Bool, now: String) {
        let ready: Condition
        let podPhase = pod?.status?.phase
        if !podExists {
            ready = Condition(type: "Ready", status: "False", reason: "PodNotExists", message: "virt-launcher pod has not yet been scheduled")
        } else if pod?.metadata?.deletionTimestamp != nil || podPhase == "Failed" || podPhase == "Succeeded" {
            ready = Condition(type: "Ready", status: "False", reason: "PodTerminating", message: "virt-launcher pod is terminating")
        } else if phase != KubeVirt.Phase.running {
            ready = Condition(type: "Ready", status: "False", reason: "GuestNotRunning", message: "Guest VM is not reported as running")
        } else if let podReady = pod?.status?.conditions?.first(where: { $0.type == "Ready" }) {
            var copy = Condition(type: "Ready", status: podReady.status, reason: podReady.reason, message: podReady.message)
            copy.lastTransitionTime = podReady.lastTransitionTime
            ready = copy
        } else if podPhase == "Running" {
            ready = Condition(type: "Ready", status: "True")
        } else {
            ready = Condition(type: "Ready", status: "False", reason: "PodConditionMissing", message: "virt-launcher pod is missing the Ready condition")
        }
        let existing = conditions.get("Ready")
        if existing?.status == ready.status, existing?.reason == ready.reason, existing?.message == ready.message { return }
        conditions.set(ready, now: now)
    }

    // MARK: - Pods

    /// The VMI's launcher pod among the pods it controls: the one with the expected name, else one not
    /// being deleted, else any.
    static func launcherPod(among owned: [JSONValue], vmiName: String, uid: String) -> JSONValue? {
        let expected = LauncherPod.name(vmiName: vmiName, uid: uid)
        return owned.first { $0.metadataName == expected }
            ?? owned.first { $0.metadataDeletionTimestamp == nil }
            ?? owned.first
    }

    /// Whether launcher pods should ask for KVM now.
    func requestKVM() -> Bool {
        switch configuration.emulation {
        case .disabled: return true
        case .enabled: return false
        case .auto:
            return nodes.list().contains { node in
                let allocatable = node[path: ["status", "allocatable", KubeVirt.kvmResource]] ?? node[path: ["status", "capacity", KubeVirt.kvmResource]]
                let amount = (try? allocatable?.decoded(as: Quantity.self))?.milliValue ?? 0
                return amount > 0
            }
        }
    }

    /// Whether the VMI's pod may be created: each of its DataVolumes `Succeeded`, or `WaitForFirstConsumer`
    /// (the pod is the consumer whose scheduling binds the claim; the node agent holds the guest until the
    /// import's marker is there, as KubeVirt's temporary provisioning pod does).
    func dataVolumesReady(_ vmi: VirtualMachineInstance, namespace: String?) -> Bool {
        let names = vmi.dataVolumeNames
        guard !names.isEmpty, let dataVolumes else { return true }
        return names.allSatisfy { name in
            let phase = dataVolumes.get(ObjectKey(namespace: namespace, name: name))?[path: ["status", "phase"]]?.stringValue
            return phase == CDINames.Phase.succeeded || phase == CDINames.Phase.waitForFirstConsumer
        }
    }

    /// KubeVirt's `DataVolumesReady` condition of a VMI with `dataVolume` volumes: `True`/`AllDVsReady` when
    /// every DataVolume's `Ready` is `True`, else the first not-true status (`Unknown` for one not there) with
    /// `NotAllDVsReady`; nil for a VMI without DataVolumes.
    func dataVolumesReadyCondition(_ vmi: VirtualMachineInstance, namespace: String?) -> Condition? {
        let names = vmi.dataVolumeNames
        guard !names.isEmpty, let dataVolumes else { return nil }
        var status = "True"
        for name in names {
            let ready = dataVolumes.get(ObjectKey(namespace: namespace, name: name))?[path: ["status", "conditions"]]?.arrayValue?
                .first { $0["type"]?.stringValue == CDINames.ConditionType.ready }?["status"]?.stringValue ?? "Unknown"
            if ready != "True", status != "False" { status = ready == "False" ? "False" : "Unknown" }
        }
        return status == "True"
            ? Condition(type: KubeVirt.ConditionType.dataVolumesReady, status: "True", reason: "AllDVsReady", message: "All of the VMI's DVs are bound and not running")
            : Condition(type: KubeVirt.ConditionType.dataVolumesReady, status: status, reason: "NotAllDVsReady", message: "Not all of the VMI's DVs are ready")
    }

    func createPod(for vmi: VirtualMachineInstance, key: ObjectKey) async throws(VirtError) -> JSONValue {
        let options = LauncherPod.Options(
            requestKVM: requestKVM(), requireSchedulableNodeLabel: configuration.requireSchedulableNodeLabel,
            cpuAllocationRatio: configuration.cpuAllocationRatio, image: configuration.launcherImage)
        let pod = try LauncherPod.build(for: vmi, options: options)
        let body = try JSONValue(encoding: pod)
        let path = KubeVirt.pods.inNamespace(key.namespace)
        do {
            let created = try await client.create(path, body: body)
            logger.info("created launcher pod", metadata: ["vmi": "\(key)", "pod": "\(created.metadataName ?? "")"])
            return created
        } catch where error.code == .exists {
            // Created by an earlier pass whose answer was lost, or the cache is behind: take it if it is ours.
            let existing = try await client.get(path.named(pod.metadata?.name ?? ""))
            guard let uid = vmi.metadata?.uid, existing.isControlled(byUID: uid) else {
                throw VirtError(.exists, "pod \(pod.metadata?.name ?? "") exists and does not belong to VirtualMachineInstance \(key)")
            }
            return existing
        }
    }

    /// A deleted VMI: delete its pods, then let it go.
    func finalize(_ object: JSONValue, vmi: VirtualMachineInstance, pods owned: [JSONValue], path: ResourcePath) async throws(VirtError) {
        var remaining = 0
        let grace = Int(vmi.spec.terminationGracePeriodSeconds ?? LauncherPod.defaultGracePeriodSeconds)
        for pod in owned {
            guard let name = pod.metadataName else { continue }
            if pod.metadataDeletionTimestamp != nil {
                remaining += 1
                continue
            }
            do {
                let answer = try await client.delete(KubeVirt.pods.inNamespace(pod.metadataNamespace).named(name),
                                                     propagationPolicy: .background, gracePeriodSeconds: grace)
                await recorder.record(object, .normal, reason: "SuccessfulDelete", message: "Deleted virtual machine pod \(name)")
                if answer.metadataDeletionTimestamp != nil { remaining += 1 }
            } catch where error.code == .notFound {
                continue
            } catch {
                await recorder.record(object, .warning, reason: "FailedDelete", message: "Failed to delete virtual machine pod \(name): \(error.message)")
                throw error
            }
        }
        guard remaining == 0, object.metadataFinalizers.contains(KubeVirt.vmiFinalizer) else { return }
        var patch: JSONValue = ["metadata": ["finalizers": .array(object.metadataFinalizers.filter { $0 != KubeVirt.vmiFinalizer }.map { .string($0) })]]
        if let version = object.metadataResourceVersion { patch[path: ["metadata", "resourceVersion"]] = .string(version) }
        do {
            _ = try await client.patch(path, mergePatch: patch)
        } catch where error.code == .notFound {
            return
        }
    }
}
