import Foundation
import VirtAPI
import VirtError
import VirtReconcile

extension DataVolumeController {
    /// What a DataVolume's claim says about its import, as CDI's DataVolume controller reads it: the
    /// claim's phase, and the importer-pod annotations the node agent writes on it.
    struct Observation: Equatable {
        var phase: String
        var progress: String
        var restartCount: Int32
        var bound: Condition
        var running: Condition
        /// The claim's name, for event messages.
        var claimName: String
        /// An upload's claim (``applyUpload(claim:)``): its phases and events are the upload's.
        var upload = false
        /// A clone's source claim, `<namespace>/<name>` (`""` before the claim exists), or nil for an import.
        var cloneSource: String?

        init(phase: String, progress: String, restartCount: Int32, bound: Condition, running: Condition, claimName: String) {
            self.phase = phase
            self.progress = progress
            self.restartCount = restartCount
            self.bound = bound
            self.running = running
            self.claimName = claimName
        }

        /// A DataVolume whose source is not imported yet.
        static func unsupported(_ message: String) -> Observation {
            Observation(phase: CDINames.Phase.pending, progress: CDINames.progressUnknown, restartCount: 0,
                        bound: Condition(type: CDINames.ConditionType.bound, status: "False", reason: CDINames.Reason.notFound,
                                         message: "No PVC was created: \(message)"),
                        running: Condition(type: CDINames.ConditionType.running, status: "False", reason: "UnsupportedSource", message: message),
                        claimName: "")
        }

        init(claim: JSONValue, waitsForConsumer: Bool) {
            let name = claim.metadataName ?? ""
            claimName = name
            let annotations = claim[path: ["metadata", "annotations"]]
            let annotation = { (key: String) in annotations?[key]?.stringValue }
            let claimPhase = claim[path: ["status", "phase"]]?.stringValue ?? "Pending"
            restartCount = Int32(annotation(CDINames.Annotation.podRestarts) ?? "") ?? 0
            progress = annotation(CDINames.Annotation.progress) ?? CDINames.progressUnknown
            var runningStatus = annotation(CDINames.Annotation.runningCondition) == "true" ? "True" : "False"
            var runningReason = annotation(CDINames.Annotation.runningConditionReason)
            var runningMessage = annotation(CDINames.Annotation.runningConditionMessage)

            switch claimPhase {
            case "Bound":
                bound = Condition(type: CDINames.ConditionType.bound, status: "True", reason: CDINames.Reason.bound, message: "PVC \(name) Bound")
                switch annotation(CDINames.Annotation.podPhase) {
                case CDINames.PodPhase.pending?: phase = CDINames.Phase.importScheduled
                case CDINames.PodPhase.running?: phase = CDINames.Phase.importInProgress
                case CDINames.PodPhase.succeeded?:
                    phase = CDINames.Phase.succeeded
                    progress = "100.0%"
                    runningStatus = "False"
                    runningReason = CDINames.Reason.completed
                case CDINames.PodPhase.failed?: phase = CDINames.Phase.failed
                default: phase = CDINames.Phase.pvcBound
                }
            case "Lost":
                bound = Condition(type: CDINames.ConditionType.bound, status: "False", reason: CDINames.Reason.claimLost, message: "Claim Lost")
                phase = CDINames.Phase.failed
            default:
                bound = Condition(type: CDINames.ConditionType.bound, status: "False", reason: CDINames.Reason.pending, message: "PVC \(name) Pending")
                let selected = !(annotation(StorageNames.selectedNodeAnnotation) ?? "").isEmpty
                phase = waitsForConsumer && !selected ? CDINames.Phase.waitForFirstConsumer : CDINames.Phase.pending
                runningMessage = runningMessage ?? (phase == CDINames.Phase.waitForFirstConsumer
                    ? "The PVC's storage class binds on first consumer: it is filled once a pod using it is scheduled" : nil)
            }
            running = Condition(type: CDINames.ConditionType.running, status: runningStatus, reason: runningReason ?? "", message: runningMessage ?? "")
            if annotations?[CDINames.Upload.targetAnnotation] != nil { applyUpload(claim: claim) }
        }

        /// The event for reaching `phase`, as CDI records it.
        var event: (EventRecorder.EventType, String, String) {
            if let uploadEvent { return uploadEvent }
            if let cloneSource, let event = cloneEvent(source: cloneSource) { return event }
            switch phase {
            case CDINames.Phase.waitForFirstConsumer:
                return (.normal, CDINames.Reason.waitForFirstConsumer, "PVC \(claimName) Pending: waiting for the first consumer to be scheduled")
            case CDINames.Phase.pvcBound: return (.normal, CDINames.Reason.bound, "PVC \(claimName) Bound")
            case CDINames.Phase.importScheduled: return (.normal, CDINames.Reason.importScheduled, "Import into \(claimName) scheduled")
            case CDINames.Phase.importInProgress: return (.normal, CDINames.Reason.importInProgress, "Import into \(claimName) in progress")
            case CDINames.Phase.succeeded: return (.normal, CDINames.Reason.importSucceeded, "Successfully imported into PVC \(claimName)")
            case CDINames.Phase.failed:
                let why = running.message.map { $0.isEmpty ? "" : ": \($0)" } ?? ""
                return (.warning, CDINames.Reason.importFailed, "Failed to import into PVC \(claimName)\(why)")
            default: return (.normal, CDINames.Reason.pending, claimName.isEmpty ? (running.message ?? "") : "PVC \(claimName) Pending")
            }
        }
    }

    /// Writes the DataVolume's status from what was observed, when it changed, and records the event of a
    /// new phase (and a warning for each restart of the import).
    func writeStatus(_ object: JSONValue, observed: Observation, claimName: String?) async throws {
        let old: DataVolumeStatus? = try? object["status"]?.decoded(as: DataVolumeStatus.self)
        var status = old ?? DataVolumeStatus()
        let timestamp = KubeTime.format(now())
        status.claimName = claimName
        status.phase = observed.phase
        status.progress = observed.progress
        status.restartCount = observed.restartCount
        var conditions = ConditionList(status.conditions)
        let ready = observed.phase == CDINames.Phase.succeeded
        for condition in [observed.bound, observed.running,
                          Condition(type: CDINames.ConditionType.ready, status: ready ? "True" : "False", reason: "", message: "")] {
            if let existing = conditions.get(condition.type), existing.status == condition.status, existing.reason == condition.reason,
               existing.message == condition.message { continue }
            var stamped = condition
            stamped.lastHeartbeatTime = timestamp
            conditions.set(stamped, now: timestamp)
        }
        status.conditions = conditions.value
        guard status != old else { return }
        let updated = try object.replacingStatus(from: old, to: status)
        let path = Self.path.inNamespace(object.metadataNamespace).named(object.metadataName ?? "")
        _ = try await client.updateStatus(path, body: updated)
        if old?.phase != observed.phase {
            let (type, reason, message) = observed.event
            if !message.isEmpty { await recorder.record(object, type, reason: reason, message: message) }
        }
        if observed.restartCount > (old?.restartCount ?? 0), observed.phase != CDINames.Phase.failed {
            await recorder.record(object, .warning, reason: CDINames.Reason.error,
                                  message: "\(observed.cloneSource == nil ? "Import" : "Clone") into \(observed.claimName) failed and is retried (restart \(observed.restartCount)): \(observed.running.message ?? "")")
        }
    }
}
