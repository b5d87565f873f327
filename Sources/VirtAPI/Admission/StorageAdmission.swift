import VirtError

/// Validation and defaulting of storage kinds: `PersistentVolumeClaim`, `StorageClass`, and the entry to
/// CDI `DataVolume`'s rules (`DataVolumeAdmission`).
enum StorageAdmission {
    static let accessModes = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
    static let volumeModes = ["Filesystem", "Block"]
    static let reclaimPolicies = ["Delete", "Retain"]
    static let bindingModes = ["Immediate", "WaitForFirstConsumer"]

    // MARK: - PersistentVolumeClaim

    /// The label that asks CDI to complete a PVC from its StorageProfile when it is created.
    static let applyStorageProfileLabel = StorageProfile.applyLabel
    /// The volume mode CDI replaces with the StorageProfile's.
    static let volumeModeFromStorageProfile = StorageProfile.volumeModeFromProfile

    static func validatePersistentVolumeClaim(_ claim: PersistentVolumeClaim, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        if let old, old["spec"] == object["spec"] { return [] }
        // A claim grows, never shrinks below what its volume already holds.
        if let old, let text = old[path: ["status", "capacity", "storage"]]?.stringValue, let capacity = try? Quantity(text),
           let wanted = claim.spec?.resources?.requests?["storage"], wanted.bytes < capacity.bytes
        {
            return [FieldErrors.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")]
        }
        // A labelled PVC may leave its access and volume modes to its StorageProfile: the PersistentVolume
        // controller completes them before it binds (so it may still be incomplete on an update until then).
        let fromProfile = claim.metadata?.labels?[applyStorageProfileLabel] == "true" && (old.map(StorageProfile.wantsCompletion) ?? true)
        return validateClaimSpec(claim.spec ?? PersistentVolumeClaimSpec(), prefix: "spec", fromStorageProfile: fromProfile)
    }

    /// Checks a PVC's `spec`. With `fromStorageProfile`, access modes may be missing and the volume mode
    /// may be `FromStorageProfile`.
    static func validateClaimSpec(_ spec: PersistentVolumeClaimSpec, prefix: String, fromStorageProfile: Bool) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let modes = spec.accessModes ?? []
        if !fromStorageProfile, modes.isEmpty {
            causes.append(FieldErrors.required(
                "\(prefix).accessModes",
                "at least 1 access mode is required (or label the claim \(applyStorageProfileLabel): \"true\" to take it from the StorageProfile)"))
        }
        for (i, mode) in modes.enumerated() where !accessModes.contains(mode) {
            causes.append(FieldErrors.notSupported("\(prefix).accessModes[\(i)]", mode, accessModes))
        }
        let allowedModes = fromStorageProfile ? volumeModes + [volumeModeFromStorageProfile] : volumeModes
        if let mode = spec.volumeMode, !allowedModes.contains(mode) {
            causes.append(FieldErrors.notSupported("\(prefix).volumeMode", mode, allowedModes))
        }
        let sizeField = "\(prefix).resources.requests.storage"
        if let size = spec.resources?.requests?["storage"] {
            if size.bytes <= 0 {
                causes.append(FieldErrors.invalid(sizeField, size.text, "must be greater than zero"))
            }
        } else {
            causes.append(FieldErrors.required(sizeField, "the size of the volume, for example 10Gi"))
        }
        return causes
    }

    /// Kubernetes' default volume mode, `Filesystem` — except on a claim labelled for its StorageProfile,
    /// whose missing volume mode the profile gives.
    static func applyPersistentVolumeClaimDefaults(_ object: inout JSONValue) {
        if object[path: ["metadata", "labels", applyStorageProfileLabel]]?.stringValue == "true" { return }
        guard object["spec"]?.objectValue != nil else {
            if object["spec"] == nil, object.objectValue != nil {
                object["spec"] = .object(["volumeMode": .string("Filesystem")])
            }
            return
        }
        if object[path: ["spec", "volumeMode"]] == nil || object[path: ["spec", "volumeMode"]] == .null {
            object[path: ["spec", "volumeMode"]] = .string("Filesystem")
        }
    }

    // MARK: - DataVolume

    /// CDI's rules for a DataVolume (`DataVolumeAdmission`).
    static func validateDataVolume(_ dataVolume: DataVolume, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        DataVolumeAdmission.validate(dataVolume, object: object, old: old)
    }

    // MARK: - StorageClass

    static func validateStorageClass(_ storageClass: StorageClass, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        if storageClass.provisioner.isEmpty {
            causes.append(FieldErrors.required("provisioner", "the name of the volume provisioner"))
        }
        if let oldProvisioner = old?["provisioner"], oldProvisioner != object["provisioner"] {
            causes.append(FieldErrors.forbidden("provisioner", "updates to provisioner are forbidden."))
        }
        if let policy = storageClass.reclaimPolicy, !reclaimPolicies.contains(policy) {
            causes.append(FieldErrors.notSupported("reclaimPolicy", policy, reclaimPolicies))
        }
        if let mode = storageClass.volumeBindingMode, !bindingModes.contains(mode) {
            causes.append(FieldErrors.notSupported("volumeBindingMode", mode, bindingModes))
        }
        return causes
    }
}
