import VirtAPI
import VirtError
import VirtReconcile

extension DataVolumeController {
    /// CDI's reason for a DataVolume whose claim cannot be rendered from `spec.storage`.
    static let claimNotValidReason = "ErrClaimNotValid"

    /// The status of a DataVolume whose claim cannot be rendered: `Pending`, no claim, `Bound` and
    /// `Running` false with `ErrClaimNotValid` and the reason, as CDI reports it.
    static func claimNotValid(_ message: String) -> Observation {
        Observation(phase: CDINames.Phase.pending, progress: CDINames.progressUnknown, restartCount: 0,
                    bound: Condition(type: CDINames.ConditionType.bound, status: "False", reason: claimNotValidReason, message: message),
                    running: Condition(type: CDINames.ConditionType.running, status: "False", reason: claimNotValidReason, message: message),
                    claimName: "")
    }

    /// Reports a claim that cannot be rendered: the status, and a warning event when the reason is new.
    func reportClaimNotValid(_ object: JSONValue, message: String) async throws {
        let bound = object[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == CDINames.ConditionType.bound }
        if bound?["reason"]?.stringValue != Self.claimNotValidReason || bound?["message"]?.stringValue != message {
            await recorder.record(object, .warning, reason: Self.claimNotValidReason, message: message)
        }
        try await writeStatus(object, observed: Self.claimNotValid(message), claimName: nil)
    }
}
