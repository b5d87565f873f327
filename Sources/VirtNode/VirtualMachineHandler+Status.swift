import Foundation
import VirtAPI
import VirtClient
import VirtError
import VirtQEMU
import VirtReconcile

extension VirtualMachineHandler {
    // MARK: - Running

    /// The pod and the VMI say the guest runs (writes only what changed).
    /// `podIPs`: the pod's addresses from the launch that just happened; empty: the pod's status has them.
    /// `attached` and `networkStatus`: where the launch's networks put each interface, and the pod's
    /// network-status annotation.
    func reportRunning(pod: JSONValue, vmi: VirtualMachineInstance, object: JSONValue, key: ObjectKey, state: VirtualMachineState,
                       podIPs: [String] = [], attached: [String: AttachedInterface] = [:], networkStatus: String? = nil) async throws {
        let uid = object.metadataUID ?? ""
        if let networkStatus { try await annotatePod(pod, [MultusNetworkSelection.statusAnnotation: networkStatus]) }
        // The pod's and the VMI's status are independent writes: send them together.
        async let podReported: Void = writePodRunning(pod, podIPs: podIPs)
        let addresses = podIPs.isEmpty ? (pod[path: ["status", "podIPs"]]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue } : podIPs
        let interfaces = Self.interfaces(of: vmi, identity: Self.withStableIdentity(vmi).spec.domain.firmware?.uuid ?? uid, podIPs: addresses,
                                         attached: attached)
        var startedNow = false
        try await writeVMIStatus(key: key, uid: uid) { status in
            guard !KubeVirt.Phase.isFinal(status.phase) else { return }
            if status.phase != KubeVirt.Phase.running {
                self.setPhase(&status, KubeVirt.Phase.running)
                startedNow = true
            }
            if (status.interfaces ?? []).isEmpty { status.interfaces = interfaces }
            var conditions = ConditionList(status.conditions)
            conditions.remove(KubeVirt.ConditionType.synchronized)
            // Read at the write (and again on a conflict), so a pause carried out meanwhile is not undone.
            var current = vmi
            current.status = status
            if let paused = self.pausedCondition(object: object, vmi: current, uid: uid) {
                conditions.set(paused, now: self.timestamp())
            } else {
                conditions.remove(KubeVirt.ConditionType.paused)
            }
            status.conditions = conditions.value
        }
        try await podReported
        if startedNow {
            await recorder.record(object, .normal, reason: "Started", message: "VirtualMachineInstance started")
        }
    }

    /// `Paused=True` with why, or `nil` when the guest's CPUs run.
    func pausedCondition(object: JSONValue, vmi: VirtualMachineInstance, uid: String) -> Condition? {
        let reported = vmi.status?.conditions?.first { $0.type == KubeVirt.ConditionType.paused }
        // Not heard from QEMU yet (a guest adopted after an agent restart): what the VMI says stands.
        guard let runState = registry.runState(uid) else { return reported }
        switch runState {
        case "running", "inmigrate", "postmigrate", "finish-migrate":
            return nil
        case "io-error":
            return Condition(type: KubeVirt.ConditionType.paused, status: "True", reason: KubeVirt.ConditionReason.pausedIOError,
                             message: "VMI was paused, low-level IO error detected")
        default:
            // The user's pause: told by the verb, or (after an agent restart) by the condition already there.
            if registry.pausedByUser(uid) || reported?.reason == KubeVirt.ConditionReason.pausedByUser && vmi.spec.startStrategy != "Paused" {
                return Condition(type: KubeVirt.ConditionType.paused, status: "True", reason: KubeVirt.ConditionReason.pausedByUser,
                                 message: "VMI was paused by user")
            }
            if vmi.spec.startStrategy == "Paused" {
                return Condition(type: KubeVirt.ConditionType.paused, status: "True", reason: KubeVirt.ConditionReason.pausedByUser,
                                 message: "VMI was started paused (startStrategy: Paused)")
            }
            return Condition(type: KubeVirt.ConditionType.paused, status: "True", reason: KubeVirt.ConditionReason.pausedByQEMU,
                             message: "QEMU stopped the guest's CPUs (run state \(runState))")
        }
    }

    /// `status.interfaces` as the domain has them: name and MAC of each interface (`identity` is the one
    /// QEMU's MACs are generated from); an interface on the pod network carries the pod's addresses, as
    /// KubeVirt reports them without a guest agent, and one the networks placed (`attached`) the MAC and
    /// addresses its network gave, with its pod interface.
    static func interfaces(of vmi: VirtualMachineInstance, identity: String, podIPs: [String] = [],
                           attached: [String: AttachedInterface] = [:]) -> [VirtualMachineInstanceNetworkInterface] {
        let podNetworks = Set((vmi.spec.networks ?? []).filter { $0.pod != nil }.map(\.name))
        let multusNetworks = Set((vmi.spec.networks ?? []).filter { $0.multus != nil }.map(\.name))
        return (vmi.spec.domain.devices.interfaces ?? []).map { interface in
            var status = VirtualMachineInstanceNetworkInterface()
            status.name = interface.name
            status.mac = interface.macAddress ?? QEMUCommand.generatedMACAddress(vmiUID: identity, interfaceName: interface.name)
            status.infoSource = multusNetworks.contains(interface.name) ? "domain, multus-status" : "domain"
            if let placed = attached[interface.name] {
                if !placed.mac.isEmpty { status.mac = placed.mac }
                status.podInterfaceName = placed.podInterfaceName
                if let first = placed.ipAddresses.first {
                    status.ipAddress = first
                    status.ipAddresses = placed.ipAddresses
                }
            } else if podNetworks.contains(interface.name), let first = podIPs.first {
                status.ipAddress = first
                status.ipAddresses = podIPs
                status.podInterfaceName = "eth0"
            }
            return status
        }
    }

    /// Sets annotations on the pod (a merge patch of its metadata); a pod gone meanwhile is fine.
    func annotatePod(_ pod: JSONValue, _ annotations: [String: String]) async throws {
        let patch: JSONValue = ["metadata": ["annotations": .object(annotations.mapValues { .string($0) })]]
        do {
            _ = try await client.patch(podPath(pod), mergePatch: patch)
        } catch {
            if error.code == .notFound { return }
            throw error
        }
    }

    func writePodRunning(_ pod: JSONValue, podIPs: [String] = []) async throws {
        let now = JSONValue.string(timestamp())
        let hostIP = JSONValue.string(configuration.nodeAddress)
        let podIPList = JSONValue.array(podIPs.map { ["ip": .string($0)] })
        try await writePodStatus(pod) { pod in
            if ["Running", "Succeeded", "Failed"].contains(pod[path: ["status", "phase"]]?.stringValue ?? "") { return false }
            pod[path: ["status", "phase"]] = "Running"
            pod[path: ["status", "startTime"]] = now
            pod[path: ["status", "hostIP"]] = hostIP
            pod[path: ["status", "hostIPs"]] = [["ip": hostIP]]
            if let first = podIPs.first {
                pod[path: ["status", "podIP"]] = .string(first)
                pod[path: ["status", "podIPs"]] = podIPList
            }
            pod[path: ["status", "message"]] = nil
            pod[path: ["status", "reason"]] = nil
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

    // MARK: - Not started (yet)

    /// A preparation failed: the pod waits (as a kubelet leaves a pod whose image cannot be pulled), the
    /// VMI says why in `Synchronized=False`, and an event tells it once per new message.
    func reportWaiting(pod: JSONValue, object: JSONValue, key: ObjectKey, uid: String, failure: StartFailure) async throws {
        let previous = pod[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting"]]
        // The first failure of a pull is ErrImagePull; while it keeps failing the pod backs off.
        let reason = failure.reason == "ErrImagePull" && previous?["reason"]?.stringValue.map({ $0 == "ErrImagePull" || $0 == "ImagePullBackOff" }) == true
            ? "ImagePullBackOff" : failure.reason
        let message = JSONValue.string(failure.message)
        let reasonValue = JSONValue.string(reason)
        try await writePodStatus(pod) { pod in
            let waiting: JSONValue = ["reason": reasonValue, "message": message]
            if pod[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting"]] == waiting { return false }
            pod[path: ["status", "phase"]] = "Pending"
            pod[path: ["status", "containerStatuses"]] = [
                ["name": "compute", "ready": false, "started": false, "restartCount": 0, "image": "qemu-system-x86_64", "state": ["waiting": waiting]],
            ]
            return true
        }
        var changed = false
        try await writeVMIStatus(key: key, uid: uid) { status in
            var conditions = ConditionList(status.conditions)
            let existing = conditions.get(KubeVirt.ConditionType.synchronized)
            if existing?.reason == reason, existing?.message == failure.message { return }
            conditions.set(Condition(type: KubeVirt.ConditionType.synchronized, status: "False", reason: reason, message: failure.message), now: self.timestamp())
            status.conditions = conditions.value
            changed = true
        }
        if changed {
            await recorder.record(object, .warning, reason: reason == "ImagePullBackOff" ? "BackOff" : reason == "ErrImagePull" ? "Failed" : "FailedCreate",
                                  message: failure.message)
        }
    }

    // MARK: - Ended

    /// QEMU is gone (or never started): the pod and the VMI end, Succeeded when the guest powered itself
    /// off, Failed otherwise, with why.
    func reportEnded(pod: JSONValue, key: ObjectKey, uid: String, state: VirtualMachineState, reason: String?, failure: StartFailure? = nil,
                     succeeded outcome: Bool? = nil) async throws {
        let succeeded = outcome ?? (state.ending == .guestShutdown && failure == nil)
        let why = failure?.message ?? reason ?? Self.describe(state.ending)
        let podPhase: JSONValue = succeeded ? "Succeeded" : "Failed"
        let message: JSONValue = why.map { .string($0) } ?? .null
        try await writePodStatus(pod) { pod in
            // An ended pod stays as it ended.
            if ["Succeeded", "Failed"].contains(pod[path: ["status", "phase"]]?.stringValue ?? "") { return false }
            pod[path: ["status", "phase"]] = podPhase
            pod[path: ["status", "message"]] = message
            pod[path: ["status", "containerStatuses"]] = [
                ["name": "compute", "ready": false, "restartCount": 0, "image": "qemu-system-x86_64",
                 "state": ["terminated": ["exitCode": succeeded ? 0 : 137, "reason": succeeded ? "Completed" : "Error", "message": message]]],
            ]
            var conditions = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Ready" }
            conditions.append(["type": "Ready", "status": "False"])
            pod[path: ["status", "conditions"]] = .array(conditions)
            return true
        }
        var ended = false
        try await writeVMIStatus(key: key, uid: uid) { status in
            guard !KubeVirt.Phase.isFinal(status.phase) else { return }
            // Until the VMI is this node's (Scheduled), its phase is the controllers'.
            guard [KubeVirt.Phase.scheduled, KubeVirt.Phase.running].contains(status.phase ?? "") else { return }
            self.setPhase(&status, succeeded ? KubeVirt.Phase.succeeded : KubeVirt.Phase.failed)
            var conditions = ConditionList(status.conditions)
            conditions.remove(KubeVirt.ConditionType.paused)
            if let failure {
                conditions.set(Condition(type: KubeVirt.ConditionType.synchronized, status: "False", reason: KubeVirt.ConditionReason.failedSync,
                                         message: failure.message), now: self.timestamp())
            }
            status.conditions = conditions.value
            ended = true
        }
        guard ended, let object = vmis.get(key) else { return }
        if succeeded {
            await recorder.record(object, .normal, reason: "Stopped", message: "The guest powered off; the VirtualMachineInstance has stopped")
        } else {
            await recorder.record(object, .warning, reason: failure == nil ? "Stopped" : "SyncFailed",
                                  message: why ?? "The VirtualMachineInstance's QEMU ended")
        }
    }

    static func describe(_ ending: VirtualMachineState.Ending?) -> String? {
        switch ending {
        case .guestShutdown: "the guest powered off"
        case .hostShutdown: "QEMU was stopped"
        case .guestPanicked: "the guest kernel panicked"
        case .internalError: "QEMU stopped the guest with an internal error (the accelerator could not run it)"
        case nil: "QEMU ended"
        }
    }

    // MARK: - Writing

    /// Appends a phase change with its timestamp.
    func setPhase(_ status: inout VirtualMachineInstanceStatus, _ phase: String) {
        guard status.phase != phase else { return }
        status.phase = phase
        var transitions = status.phaseTransitionTimestamps ?? []
        transitions.append(PhaseTransitionTimestamp(phase: phase, phaseTransitionTimestamp: timestamp()))
        status.phaseTransitionTimestamps = transitions
    }

    func timestamp() -> String { KubeTime.format(now()) }

    /// Reads the VMI, changes its status, writes it back if it changed (again on conflict). A VMI of
    /// another UID under the same name is left alone.
    func writeVMIStatus(key: ObjectKey, uid: String, _ change: (inout VirtualMachineInstanceStatus) -> Void) async throws {
        let path = KubeVirt.virtualMachineInstances.inNamespace(key.namespace).named(key.name)
        for _ in 0..<5 {
            guard let object = try await getIfPresent(path), object.metadataUID == uid else { return }
            let typed: VirtualMachineInstance = try object.decoded()
            var status = typed.status ?? VirtualMachineInstanceStatus()
            change(&status)
            guard status != (typed.status ?? VirtualMachineInstanceStatus()) else { return }
            let updated = try object.replacingStatus(from: typed.status, to: status)
            if try await updateStatusUnlessConflict(path, body: updated) { return }
        }
        throw VirtError(.conflict, "the status of VirtualMachineInstance \(key) kept changing; trying again")
    }

    /// Reads the pod, changes its status (`change` returns whether it did), writes it back (again on conflict).
    func writePodStatus(_ pod: JSONValue, _ change: (inout JSONValue) -> Bool) async throws {
        let path = podPath(pod)
        for _ in 0..<5 {
            guard var object = try await getIfPresent(path), object.metadataUID == pod.metadataUID, change(&object) else { return }
            if try await updateStatusUnlessConflict(path, body: object) { return }
        }
        throw VirtError(.conflict, "the status of pod \(pod.metadataNamespace ?? "")/\(pod.metadataName ?? "") kept changing; trying again")
    }

    func getIfPresent(_ path: ResourcePath) async throws -> JSONValue? { try await client.getIfPresent(path) }

    func updateStatusUnlessConflict(_ path: ResourcePath, body: JSONValue) async throws -> Bool {
        try await client.updateStatusUnlessConflict(path, body: body)
    }
}
