import VirtError

/// Validation of CDI `StorageProfile`'s `spec` (the status is the controller's): every claim property set
/// names both its access modes and its volume mode, from Kubernetes' values, as CDI's StorageProfile
/// controller insists; clone strategy and DataImportCron source format from CDI's enums.
enum StorageProfileAdmission {
    static func validate(_ profile: StorageProfile, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        guard let spec = profile.spec else { return [] }
        var causes: [VirtError.Cause] = []
        for (i, set) in (spec.claimPropertySets ?? []).enumerated() {
            let prefix = "spec.claimPropertySets[\(i)]"
            let modes = set.accessModes ?? []
            if modes.isEmpty {
                causes.append(FieldErrors.required(
                    "\(prefix).accessModes",
                    "must provide access mode for volume mode: \(set.volumeMode ?? "(none)"); one or more of \(StorageAdmission.accessModes.joined(separator: ", "))"))
            }
            for (j, mode) in modes.enumerated() where !StorageAdmission.accessModes.contains(mode) {
                causes.append(FieldErrors.notSupported("\(prefix).accessModes[\(j)]", mode, StorageAdmission.accessModes))
            }
            if let mode = set.volumeMode {
                if !StorageAdmission.volumeModes.contains(mode) {
                    causes.append(FieldErrors.notSupported("\(prefix).volumeMode", mode, StorageAdmission.volumeModes))
                }
            } else {
                causes.append(FieldErrors.required("\(prefix).volumeMode", "must provide volume mode: Filesystem or Block"))
            }
        }
        if let strategy = spec.cloneStrategy, !StorageProfile.cloneStrategies.contains(strategy) {
            causes.append(FieldErrors.notSupported("spec.cloneStrategy", strategy, StorageProfile.cloneStrategies))
        }
        if let format = spec.dataImportCronSourceFormat, !StorageProfile.sourceFormats.contains(format) {
            causes.append(FieldErrors.notSupported("spec.dataImportCronSourceFormat", format, StorageProfile.sourceFormats))
        }
        return causes
    }
}
