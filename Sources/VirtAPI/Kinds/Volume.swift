/// KubeVirt `Volume`: a named storage source (`spec.volumes[]`); exactly one source is set and a disk of
/// the same name shows it to the guest.
public struct Volume: Codable, Sendable, Equatable {
    public var name: String
    public var hostDisk: HostDisk?
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    public var cloudInitNoCloud: CloudInitSource?
    public var cloudInitConfigDrive: CloudInitSource?
    /// Windows sysprep answer files; kept opaque.
    public var sysprep: JSONValue?
    public var containerDisk: ContainerDiskSource?
    public var ephemeral: EphemeralVolumeSource?
    public var emptyDisk: EmptyDiskSource?
    public var dataVolume: DataVolumeVolumeSource?
    /// ConfigMap as a disk; kept opaque.
    public var configMap: JSONValue?
    /// Secret as a disk; kept opaque.
    public var secret: JSONValue?
    /// Downward API as a disk; kept opaque.
    public var downwardAPI: JSONValue?
    /// Service account token as a disk; kept opaque.
    public var serviceAccount: JSONValue?
    /// Downward metrics as a disk; kept opaque.
    public var downwardMetrics: JSONValue?
    /// Memory dump target PVC; kept opaque.
    public var memoryDump: JSONValue?
    /// A path of the launcher container shared with virtiofs; kept opaque.
    public var containerPath: JSONValue?

    public init(name: String) { self.name = name }

    /// The names of the sources set on this volume (valid volumes have exactly one).
    public var sourceTypes: [String] {
        var types: [String] = []
        if hostDisk != nil { types.append("hostDisk") }
        if persistentVolumeClaim != nil { types.append("persistentVolumeClaim") }
        if cloudInitNoCloud != nil { types.append("cloudInitNoCloud") }
        if cloudInitConfigDrive != nil { types.append("cloudInitConfigDrive") }
        if sysprep != nil { types.append("sysprep") }
        if containerDisk != nil { types.append("containerDisk") }
        if ephemeral != nil { types.append("ephemeral") }
        if emptyDisk != nil { types.append("emptyDisk") }
        if dataVolume != nil { types.append("dataVolume") }
        if configMap != nil { types.append("configMap") }
        if secret != nil { types.append("secret") }
        if downwardAPI != nil { types.append("downwardAPI") }
        if serviceAccount != nil { types.append("serviceAccount") }
        if downwardMetrics != nil { types.append("downwardMetrics") }
        if memoryDump != nil { types.append("memoryDump") }
        if containerPath != nil { types.append("containerPath") }
        return types
    }
}

/// KubeVirt `HostDisk`: a disk image file on the node.
public struct HostDisk: Codable, Sendable, Equatable {
    public var path: String?
    /// `Disk` (must exist) or `DiskOrCreate`.
    public var type: String?
    /// Size of the image created for `DiskOrCreate`.
    public var capacity: Quantity?
    public var shared: Bool?

    public init(path: String? = nil, type: String? = nil) {
        self.path = path
        self.type = type
    }
}

/// KubeVirt `PersistentVolumeClaimVolumeSource`: a PVC attached directly.
public struct PersistentVolumeClaimVolumeSource: Codable, Sendable, Equatable {
    public var claimName: String?
    public var readOnly: Bool?
    public var hotpluggable: Bool?

    public init(claimName: String? = nil) { self.claimName = claimName }
}

/// KubeVirt `CloudInitNoCloudSource` / `CloudInitConfigDriveSource` (same fields).
public struct CloudInitSource: Codable, Sendable, Equatable {
    /// A Secret holding `userdata` (or `userData`).
    public var secretRef: LocalObjectReference?
    public var userDataBase64: String?
    public var userData: String?
    /// A Secret holding `networkdata` (or `networkData`).
    public var networkDataSecretRef: LocalObjectReference?
    public var networkDataBase64: String?
    public var networkData: String?

    public init(userData: String? = nil, networkData: String? = nil) {
        self.userData = userData
        self.networkData = networkData
    }
}

/// KubeVirt `ContainerDiskSource`: a disk image inside an OCI image.
public struct ContainerDiskSource: Codable, Sendable, Equatable {
    public var image: String?
    public var imagePullSecret: String?
    /// Path of the image file inside the container image.
    public var path: String?
    public var imagePullPolicy: String?

    public init(image: String? = nil) { self.image = image }
}

/// KubeVirt `EphemeralVolumeSource`: a PVC used read-only under a throwaway overlay.
public struct EphemeralVolumeSource: Codable, Sendable, Equatable {
    public var persistentVolumeClaim: CorePersistentVolumeClaimVolumeSource?

    public init(persistentVolumeClaim: CorePersistentVolumeClaimVolumeSource? = nil) {
        self.persistentVolumeClaim = persistentVolumeClaim
    }
}

/// Kubernetes `PersistentVolumeClaimVolumeSource`: a PVC by name.
public struct CorePersistentVolumeClaimVolumeSource: Codable, Sendable, Equatable {
    public var claimName: String?
    public var readOnly: Bool?

    public init(claimName: String? = nil) { self.claimName = claimName }
}

/// KubeVirt `EmptyDiskSource`: a blank sparse disk that lives as long as the VMI.
public struct EmptyDiskSource: Codable, Sendable, Equatable {
    public var capacity: Quantity

    public init(capacity: Quantity) { self.capacity = capacity }
}

/// KubeVirt `DataVolumeSource`: the PVC of a DataVolume of this name.
public struct DataVolumeVolumeSource: Codable, Sendable, Equatable {
    public var name: String?
    public var hotpluggable: Bool?

    public init(name: String? = nil) { self.name = name }
}

extension Volume: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.required("name")
        hostDisk = try object.optional("hostDisk")
        persistentVolumeClaim = try object.optional("persistentVolumeClaim")
        cloudInitNoCloud = try object.optional("cloudInitNoCloud")
        cloudInitConfigDrive = try object.optional("cloudInitConfigDrive")
        sysprep = try object.optional("sysprep")
        containerDisk = try object.optional("containerDisk")
        ephemeral = try object.optional("ephemeral")
        emptyDisk = try object.optional("emptyDisk")
        dataVolume = try object.optional("dataVolume")
        configMap = try object.optional("configMap")
        secret = try object.optional("secret")
        downwardAPI = try object.optional("downwardAPI")
        serviceAccount = try object.optional("serviceAccount")
        downwardMetrics = try object.optional("downwardMetrics")
        memoryDump = try object.optional("memoryDump")
        containerPath = try object.optional("containerPath")
    }
}

extension HostDisk: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        path = try object.optional("path")
        type = try object.optional("type")
        capacity = try object.optional("capacity")
        shared = try object.optional("shared")
    }
}

extension PersistentVolumeClaimVolumeSource: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        claimName = try object.optional("claimName")
        readOnly = try object.optional("readOnly")
        hotpluggable = try object.optional("hotpluggable")
    }
}

extension CloudInitSource: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        secretRef = try object.optional("secretRef")
        userDataBase64 = try object.optional("userDataBase64")
        userData = try object.optional("userData")
        networkDataSecretRef = try object.optional("networkDataSecretRef")
        networkDataBase64 = try object.optional("networkDataBase64")
        networkData = try object.optional("networkData")
    }
}

extension ContainerDiskSource: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        image = try object.optional("image")
        imagePullSecret = try object.optional("imagePullSecret")
        path = try object.optional("path")
        imagePullPolicy = try object.optional("imagePullPolicy")
    }
}

extension EphemeralVolumeSource: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        persistentVolumeClaim = try object.optional("persistentVolumeClaim")
    }
}

extension CorePersistentVolumeClaimVolumeSource: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        claimName = try object.optional("claimName")
        readOnly = try object.optional("readOnly")
    }
}

extension EmptyDiskSource: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        capacity = try object.required("capacity")
    }
}

extension DataVolumeVolumeSource: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.optional("name")
        hotpluggable = try object.optional("hotpluggable")
    }
}
