import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtReconcile

/// How the node agent's fill of a claim's volume ended — an import (``VolumeImportHandler``) or a clone
/// (``VolumeCloneHandler``) — written on the claim as CDI's importer-pod annotations, which the DataVolume
/// controller turns into the DataVolume's status:
///
/// - success, once the volume's marker exists: phase `Succeeded`, progress `100.0%`, the running condition
///   `false` with `Completed` and ``completeMessage``; a success without the marker is a retryable failure;
/// - a retryable failure: the running condition `false` with `Error` and the reason, one more restart, and
///   the fill comes back after a back-off of 2ⁿ s (at most 60 s), kept in ``ImportRetrySchedule``;
/// - any other failure: phase `Failed`.
struct VolumeFillReport {
    /// What is filled, for the log: `import` or `clone`.
    var noun: String
    /// The running condition's message on success (CDI's `Import Complete`, `Clone Complete`).
    var completeMessage: String
    /// The phase a retry waits in, or nil to leave the phase as it is.
    var retryPhase: String?

    /// Writes the outcome on the claim at `path`; the result requeues a retryable failure after its back-off.
    func write(_ outcome: VolumeImportOutcome, marker: String?, path: ResourcePath, uid: String, restarts: Int, key: ObjectKey,
               client: any APIClient, retries: ImportRetrySchedule, logger: Logger) async throws -> ReconcileResult
    {
        var annotations: JSONValue
        var result = ReconcileResult.done
        switch outcome {
        case .succeeded where marker.map { FileManager.default.fileExists(atPath: $0) } ?? false:
            retries.set(uid, nil)
            logger.info("\(noun) into claim \(key) complete")
            annotations = [
                CDINames.Annotation.podPhase: .string(CDINames.PodPhase.succeeded), CDINames.Annotation.progress: "100.0%",
                CDINames.Annotation.runningCondition: "false", CDINames.Annotation.runningConditionReason: .string(CDINames.Reason.completed),
                CDINames.Annotation.runningConditionMessage: .string(completeMessage),
            ]
        case .succeeded:
            let missing = VolumeImportOutcome.failed(
                reason: "MarkerMissing", message: "the \(noun) ended without writing \(marker ?? "its marker")", retryable: true)
            return try await write(missing, marker: marker, path: path, uid: uid, restarts: restarts, key: key,
                                   client: client, retries: retries, logger: logger)
        case .failed(let reason, let message, let retryable):
            let text = "\(reason): \(message)"
            logger.warning("\(noun) into claim \(key) failed\(retryable ? ", retrying" : ""): \(text)")
            annotations = [
                CDINames.Annotation.runningCondition: "false", CDINames.Annotation.runningConditionReason: .string(CDINames.Reason.error),
                CDINames.Annotation.runningConditionMessage: .string(text),
            ]
            if retryable {
                let delay = Duration.seconds(min(60, 1 << min(restarts + 1, 6)))
                retries.set(uid, .now + delay)
                annotations[CDINames.Annotation.podRestarts] = .string(String(restarts + 1))
                if let retryPhase { annotations[CDINames.Annotation.podPhase] = .string(retryPhase) }
                result = .requeue(after: delay)
            } else {
                annotations[CDINames.Annotation.podPhase] = .string(CDINames.PodPhase.failed)
            }
        }
        _ = try await client.patch(path, mergePatch: ["metadata": ["annotations": annotations]])
        return result
    }
}
