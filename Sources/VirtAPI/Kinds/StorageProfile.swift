/// cdi.kubevirt.io/v1beta1 `StorageProfile`: what CDI recommends for claims of one StorageClass (same
/// name, cluster-scoped). The StorageProfile controller creates one per class and writes `status`; a user
/// may edit `spec`, whose values then win over the built-in defaults (``builtInDefaults(provisioner:)``).
public struct StorageProfile: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: StorageProfileSpec?
    public var status: StorageProfileStatus?

    public init(metadata: ObjectMeta? = nil, spec: StorageProfileSpec? = nil) {
        self.apiVersion = "cdi.kubevirt.io/v1beta1"
        self.kind = "StorageProfile"
        self.metadata = metadata
        self.spec = spec
    }

    /// `cloneStrategy` values.
    public static let cloneStrategies = ["copy", "snapshot", "csi-clone"]
    /// `dataImportCronSourceFormat` values.
    public static let sourceFormats = ["pvc", "snapshot"]
    /// The StorageClass annotation CDI reads for a clone strategy when the profile's spec has none.
    public static let cloneStrategyAnnotation = "cdi.kubevirt.io/clone-strategy"

    /// What SwiftVirt knows of its own provisioners, as CDI's storage capabilities table knows of others:
    /// the claim property sets (first = preferred) and the advised clone strategy. An unknown provisioner
    /// gets none, and a DataVolume of its class must then name its access modes.
    ///
    /// `swiftvirt.io/local` is a directory on one node: ReadWriteOnce, as a file (`Filesystem`) or as a
    /// loop device over it (`Block`). `swiftvirt.io/shared` is a directory every node sees: ReadWriteMany,
    /// in both modes. Clones would be host-assisted copies (no snapshots or CSI clones).
    public static func builtInDefaults(provisioner: String) -> (claimPropertySets: [ClaimPropertySet], cloneStrategy: String?) {
        switch provisioner {
        case StorageNames.localProvisioner:
            return ([ClaimPropertySet(accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem"),
                     ClaimPropertySet(accessModes: ["ReadWriteOnce"], volumeMode: "Block")], "copy")
        case StorageNames.sharedProvisioner:
            return ([ClaimPropertySet(accessModes: ["ReadWriteMany"], volumeMode: "Filesystem"),
                     ClaimPropertySet(accessModes: ["ReadWriteMany"], volumeMode: "Block")], "copy")
        default:
            return ([], nil)
        }
    }

    /// The status CDI's StorageProfile controller writes for `profile` of `storageClass`: the class and its
    /// provisioner; spec's claim property sets when it has any, else the built-in ones (none: the field is
    /// left out); spec's clone strategy, else the class' `cdi.kubevirt.io/clone-strategy` annotation, else
    /// the built-in one; spec's `dataImportCronSourceFormat`, else `pvc`.
    public static func status(of profile: StorageProfile?, storageClass: StorageClass) -> StorageProfileStatus {
        let spec = profile?.spec
        let defaults = builtInDefaults(provisioner: storageClass.provisioner)
        var status = StorageProfileStatus()
        status.storageClass = storageClass.metadata?.name
        status.provisioner = storageClass.provisioner
        let sets = spec?.claimPropertySets ?? []
        status.claimPropertySets = !sets.isEmpty ? sets : (defaults.claimPropertySets.isEmpty ? nil : defaults.claimPropertySets)
        let annotated = storageClass.metadata?.annotations?[cloneStrategyAnnotation].flatMap { $0.isEmpty ? nil : $0 }
        status.cloneStrategy = spec?.cloneStrategy ?? annotated ?? defaults.cloneStrategy
        status.dataImportCronSourceFormat = spec?.dataImportCronSourceFormat ?? "pvc"
        return status
    }
}

/// CDI `StorageProfileSpec`: what the user asks for; empty when the controller creates the profile.
public struct StorageProfileSpec: Codable, Sendable, Equatable {
    /// `copy`, `snapshot` or `csi-clone`.
    public var cloneStrategy: String?
    /// The access and volume modes claims of this class get, first = preferred.
    public var claimPropertySets: [ClaimPropertySet]?
    /// `pvc` or `snapshot`: how DataImportCrons keep their sources.
    public var dataImportCronSourceFormat: String?

    public init(claimPropertySets: [ClaimPropertySet]? = nil) {
        self.claimPropertySets = claimPropertySets
    }
}

/// CDI `StorageProfileStatus`, written only by the StorageProfile controller.
public struct StorageProfileStatus: Codable, Sendable, Equatable {
    public var storageClass: String?
    public var provisioner: String?
    public var cloneStrategy: String?
    public var claimPropertySets: [ClaimPropertySet]?
    public var dataImportCronSourceFormat: String?

    public init() {}
}

/// CDI `ClaimPropertySet`: one combination of access modes and volume mode a class supports.
public struct ClaimPropertySet: Codable, Sendable, Equatable {
    public var accessModes: [String]?
    /// `Filesystem` or `Block`.
    public var volumeMode: String?

    public init(accessModes: [String]? = nil, volumeMode: String? = nil) {
        self.accessModes = accessModes
        self.volumeMode = volumeMode
    }
}
