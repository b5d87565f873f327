import VirtError

extension StorageProfile {
    /// The PVC label that asks for the claim's missing modes from its class' StorageProfile (`"true"`).
    public static let applyLabel = "cdi.kubevirt.io/applyStorageProfile"
    /// The volume mode a claim gives to ask for its StorageProfile's (`volumeMode: FromStorageProfile`).
    public static let volumeModeFromProfile = "FromStorageProfile"

    /// Whether a PVC is labelled for its StorageProfile and still lacks access modes or a volume mode (or
    /// asks `FromStorageProfile`): what the PersistentVolume controller completes before it binds.
    public static func wantsCompletion(_ claim: JSONValue) -> Bool {
        guard claim[path: ["metadata", "labels", applyLabel]]?.stringValue == "true" else { return false }
        let volumeMode = claim[path: ["spec", "volumeMode"]]?.stringValue ?? ""
        return (claim[path: ["spec", "accessModes"]]?.arrayValue ?? []).isEmpty || volumeMode.isEmpty || volumeMode == volumeModeFromProfile
    }

    /// Completes a claim spec's access and volume modes (a DataVolume's `spec.storage`, or a PVC's `spec`
    /// labelled `cdi.kubevirt.io/applyStorageProfile`) from the claim property sets of its class'
    /// StorageProfile, as CDI renders a claim; a missing volume mode and `FromStorageProfile` are the same:
    ///
    /// - neither given: the first set's access modes and volume mode;
    /// - only `volumeMode`: the access modes of the first set with that volume mode;
    /// - only `accessModes`: the volume mode of the first set whose access modes include them, else `Filesystem`.
    ///
    /// `field` is where the spec sits (`spec.storage`, `spec`), for the error's advice.
    ///
    /// - Throws: `VirtError.invalid` with CDI's message when access modes are missing and the profile
    ///   has none to give (`no accessMode specified in StorageProfile NAME`), or there is no class at all.
    public static func completeClaimModes(_ spec: inout JSONValue, className: String, field: String, sets: [ClaimPropertySet]) throws(VirtError) {
        let accessModes = (spec["accessModes"]?.arrayValue ?? []).compactMap(\.stringValue)
        let given = spec["volumeMode"]?.stringValue ?? ""
        let volumeMode = given == volumeModeFromProfile ? "" : given
        if accessModes.isEmpty {
            guard !className.isEmpty else {
                throw VirtError(.invalid, "PVC spec is missing accessMode and no storageClass to choose profile")
            }
            let usable = sets.filter { !($0.accessModes ?? []).isEmpty }
            let chosen = volumeMode.isEmpty ? usable.first : usable.first { ($0.volumeMode ?? "Filesystem") == volumeMode }
            guard let chosen else {
                let detail = volumeMode.isEmpty ? "" : " for volumeMode \(volumeMode)"
                throw VirtError(.invalid, "no accessMode specified in StorageProfile \(className)\(detail); set \(field).accessModes "
                                + "or the StorageProfile's spec.claimPropertySets")
            }
            spec["accessModes"] = .array((chosen.accessModes ?? []).map { .string($0) })
            if volumeMode.isEmpty { spec["volumeMode"] = .string(chosen.volumeMode ?? "Filesystem") }
        } else if volumeMode.isEmpty {
            let match = sets.first { set in Set(accessModes).isSubset(of: Set(set.accessModes ?? [])) && set.volumeMode != nil }
            spec["volumeMode"] = .string(match?.volumeMode ?? "Filesystem")
        }
    }
}
