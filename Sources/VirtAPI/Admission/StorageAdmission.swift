import VirtError

/// Validation and defaulting of storage kinds: `PersistentVolumeClaim`, CDI `DataVolume`, `StorageClass`.
enum StorageAdmission {
    static let accessModes = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
    static let volumeModes = ["Filesystem", "Block"]
    static let reclaimPolicies = ["Delete", "Retain"]
    static let bindingModes = ["Immediate", "WaitForFirstConsumer"]

    // MARK: - PersistentVolumeClaim

    static func validatePersistentVolumeClaim(_ claim: PersistentVolumeClaim, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        if let old, old["spec"] == object["spec"] { return [] }
        return validateClaimSpec(claim.spec ?? PersistentVolumeClaimSpec(), prefix: "spec", requireSize: true, requireAccessModes: true)
    }

    /// Checks a PVC spec (a PVC's `spec`, or a DataVolume's `spec.pvc` / `spec.storage`).
    static func validateClaimSpec(
        _ spec: PersistentVolumeClaimSpec, prefix: String, requireSize: Bool, requireAccessModes: Bool
    ) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let modes = spec.accessModes ?? []
        if requireAccessModes, modes.isEmpty {
            causes.append(FieldErrors.required("\(prefix).accessModes", "at least 1 access mode is required"))
        }
        for (i, mode) in modes.enumerated() where !accessModes.contains(mode) {
            causes.append(FieldErrors.notSupported("\(prefix).accessModes[\(i)]", mode, accessModes))
        }
        if let mode = spec.volumeMode, !volumeModes.contains(mode) {
            causes.append(FieldErrors.notSupported("\(prefix).volumeMode", mode, volumeModes))
        }
        let sizeField = "\(prefix).resources.requests.storage"
        if let size = spec.resources?.requests?["storage"] {
            if size.bytes <= 0 {
                causes.append(FieldErrors.invalid(sizeField, size.text, "must be greater than zero"))
            }
        } else if requireSize {
            causes.append(FieldErrors.required(sizeField, "the size of the volume, for example 10Gi"))
        }
        return causes
    }

    static func applyPersistentVolumeClaimDefaults(_ object: inout JSONValue) {
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

    static func validateDataVolume(_ dataVolume: DataVolume, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        if let old, old["spec"] == object["spec"] { return [] }
        var causes: [VirtError.Cause] = []
        let spec = dataVolume.spec
        switch (spec.source, spec.sourceRef) {
        case (nil, nil):
            causes.append(FieldErrors.required(
                "spec.source", "set spec.source (http, registry, pvc, upload, blank, …) or spec.sourceRef"))
        case (.some, .some):
            causes.append(FieldErrors.invalid("spec.sourceRef", "spec.source and spec.sourceRef are mutually exclusive; set only one"))
        case (.some(let source), nil):
            causes += validateSource(source)
        case (nil, .some):
            break
        }
        switch (spec.pvc, spec.storage) {
        case (nil, nil):
            causes.append(FieldErrors.required("spec.storage", "set spec.storage (or spec.pvc) to describe the volume to create"))
        case (.some, .some):
            causes.append(FieldErrors.invalid("spec.pvc", "spec.pvc and spec.storage are mutually exclusive; set only one"))
        case (.some(let pvc), nil):
            causes += validateClaimSpec(pvc, prefix: "spec.pvc", requireSize: true, requireAccessModes: true)
        case (nil, .some(let storage)):
            causes += validateClaimSpec(storage, prefix: "spec.storage", requireSize: false, requireAccessModes: false)
        }
        if let contentType = spec.contentType, !["kubevirt", "archive"].contains(contentType) {
            causes.append(FieldErrors.notSupported("spec.contentType", contentType, ["kubevirt", "archive"]))
        }
        return causes
    }

    static func validateSource(_ source: DataVolumeSource) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let types = source.sourceTypes
        if types.isEmpty {
            causes.append(FieldErrors.required(
                "spec.source", "set exactly one source type: http, s3, gcs, registry, pvc, upload, blank, imageio, vddk or snapshot"))
        } else if types.count > 1 {
            causes.append(FieldErrors.invalid(
                "spec.source", "must have exactly one source type (found \(types.joined(separator: ", ")))"))
        }
        if let http = source.http, http.url.isEmpty {
            causes.append(FieldErrors.required("spec.source.http.url", "the URL of the disk image to import"))
        }
        if let pvc = source.pvc {
            if pvc.name.isEmpty { causes.append(FieldErrors.required("spec.source.pvc.name")) }
            if pvc.namespace.isEmpty { causes.append(FieldErrors.required("spec.source.pvc.namespace")) }
        }
        return causes
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
