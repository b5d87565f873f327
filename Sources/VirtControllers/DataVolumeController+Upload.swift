import VirtAPI
import VirtReconcile

/// `source.upload` (`swiftvirt image-upload`): the claim carries CDI's upload-target annotation (and the
/// DataVolume's force-bind request), the node agent that holds its volume makes it ready to receive, and
/// the phases are CDI's: `Pending` (or `WaitForFirstConsumer`) → `UploadScheduled` (bound, the agent not
/// ready yet) → `UploadReady` → `Succeeded`.
extension DataVolumeController {
    /// The claim annotations of an upload DataVolume.
    static func uploadAnnotations(_ object: JSONValue) -> [String: JSONValue] {
        var annotations: [String: JSONValue] = [CDINames.Upload.targetAnnotation: ""]
        if object[path: ["metadata", "annotations", CDINames.Upload.bindImmediateAnnotation]]?.stringValue == "true" {
            annotations[CDINames.Upload.bindImmediateAnnotation] = "true"
        }
        return annotations
    }
}

extension DataVolumeController.Observation {
    /// The phases of an upload in place of an import's, from the same claim.
    mutating func applyUpload(claim: JSONValue) {
        upload = true
        let annotations = claim[path: ["metadata", "annotations"]]
        let annotation = { (key: String) in annotations?[key]?.stringValue }
        if claim[path: ["status", "phase"]]?.stringValue == "Bound" {
            switch annotation(CDINames.Annotation.podPhase) {
            case CDINames.PodPhase.succeeded?, CDINames.PodPhase.failed?: break
            case CDINames.PodPhase.running? where annotation(CDINames.Upload.readyAnnotation) == "true":
                phase = CDINames.Upload.phaseReady
            default:
                phase = CDINames.Upload.phaseScheduled
            }
        } else if phase == CDINames.Phase.waitForFirstConsumer, annotation(CDINames.Upload.bindImmediateAnnotation) == "true" {
            // Force-bound: the node agent places it (as the upload pod would be scheduled).
            phase = CDINames.Phase.pending
            running.message = "binding now (\(CDINames.Upload.bindImmediateAnnotation)); the upload is received once it is bound"
        }
    }

    /// The event for reaching an upload's phase, nil for one an import shares.
    var uploadEvent: (EventRecorder.EventType, String, String)? {
        guard upload else { return nil }
        switch phase {
        case CDINames.Upload.phaseScheduled: return (.normal, CDINames.Upload.reasonScheduled, "Upload into \(claimName) scheduled")
        case CDINames.Upload.phaseReady: return (.normal, CDINames.Upload.reasonReady, "Upload into \(claimName) ready")
        case CDINames.Phase.succeeded: return (.normal, CDINames.Upload.reasonSucceeded, "Successfully uploaded into PVC \(claimName)")
        default: return nil
        }
    }
}
