import VirtAPI
import VirtError
import VirtReconcile

extension DataVolumeController {
    /// CDI's reason for a DataVolume whose claim cannot be rendered from `spec.storage`.
    static let claimNotValidReason = "ErrClaimNotValid"

    /// Completes `spec.storage`'s access and volume modes from the claim property sets of its class'
    /// StorageProfile, as CDI renders a DataVolume's claim:
    ///
    /// - neither given: the first set's access modes and volume mode;
    /// - only `volumeMode`: the access modes of the first set with that volume mode;
    /// - only `accessModes`: the volume mode of the first set whose access modes include them, else `Filesystem`.
    ///
    /// - Throws: `VirtError.invalid` with CDI's message when access modes are missing and the profile
    ///   has none to give (`no accessMode specified in StorageProfile NAME`), or there is no class at all.
    static func completeModes(_ storage: inout JSONValue, className: String, sets: [ClaimPropertySet]) throws(VirtError) {
        let accessModes = (storage["accessModes"]?.arrayValue ?? []).compactMap(\.stringValue)
        let volumeMode = storage["volumeMode"]?.stringValue ?? ""
        if accessModes.isEmpty {
            guard !className.isEmpty else {
                throw VirtError(.invalid, "PVC spec is missing accessMode and no storageClass to choose profile")
            }
            let usable = sets.filter { !($0.accessModes ?? []).isEmpty }
            let chosen = volumeMode.isEmpty ? usable.first : usable.first { ($0.volumeMode ?? "Filesystem") == volumeMode }
            guard let chosen else {
                let detail = volumeMode.isEmpty ? "" : " for volumeMode \(volumeMode)"
                throw VirtError(.invalid, "no accessMode specified in StorageProfile \(className)\(detail); set spec.storage.accessModes "
                                + "or the StorageProfile's spec.claimPropertySets")
            }
            storage["accessModes"] = .array((chosen.accessModes ?? []).map { .string($0) })
            if volumeMode.isEmpty { storage["volumeMode"] = .string(chosen.volumeMode ?? "Filesystem") }
        } else if volumeMode.isEmpty {
            let match = sets.first { set in Set(accessModes).isSubset(of: Set(set.accessModes ?? [])) && set.volumeMode != nil }
            storage["volumeMode"] = .string(match?.volumeMode ?? "Filesystem")
        }
    }

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
