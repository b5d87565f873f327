/// core/v1 `PersistentVolume`: a piece of storage a claim can bind to.
public struct PersistentVolume: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: PersistentVolumeSpec?
    public var status: PersistentVolumeStatus?

    public init(metadata: ObjectMeta? = nil, spec: PersistentVolumeSpec? = nil) {
        self.apiVersion = "v1"
        self.kind = "PersistentVolume"
        self.metadata = metadata
        self.spec = spec
    }
}

/// Kubernetes `PersistentVolumeSpec`. Volume sources SwiftVirt does not provision are kept opaque.
public struct PersistentVolumeSpec: Codable, Sendable, Equatable {
    public var capacity: ResourceList?
    public var accessModes: [String]?
    /// The claim bound to this volume (`ObjectReference`); kept opaque.
    public var claimRef: JSONValue?
    /// `Retain`, `Delete` or `Recycle`.
    public var persistentVolumeReclaimPolicy: String?
    public var storageClassName: String?
    public var mountOptions: [String]?
    /// `Filesystem` or `Block`.
    public var volumeMode: String?
    /// Node affinity of a local volume; kept opaque.
    public var nodeAffinity: JSONValue?
    public var volumeAttributesClassName: String?
    public var local: LocalVolumeSource?
    public var hostPath: HostPathVolumeSource?
    public var csi: JSONValue?
    public var nfs: JSONValue?
    public var iscsi: JSONValue?
    public var fc: JSONValue?
    public var rbd: JSONValue?
    public var cephfs: JSONValue?
    public var gcePersistentDisk: JSONValue?
    public var awsElasticBlockStore: JSONValue?
    public var azureDisk: JSONValue?
    public var azureFile: JSONValue?
    public var glusterfs: JSONValue?
    public var cinder: JSONValue?
    public var flexVolume: JSONValue?
    public var flocker: JSONValue?
    public var vsphereVolume: JSONValue?
    public var quobyte: JSONValue?
    public var photonPersistentDisk: JSONValue?
    public var portworxVolume: JSONValue?
    public var scaleIO: JSONValue?
    public var storageos: JSONValue?

    public init() {}
}

/// Kubernetes `LocalVolumeSource`: a directory or device on one node.
public struct LocalVolumeSource: Codable, Sendable, Equatable {
    public var path: String
    public var fsType: String?

    public init(path: String) { self.path = path }
}

/// Kubernetes `HostPathVolumeSource`: a path on the node.
public struct HostPathVolumeSource: Codable, Sendable, Equatable {
    public var path: String
    /// `""`, `DirectoryOrCreate`, `Directory`, `FileOrCreate`, `File`, `Socket`, `CharDevice`, `BlockDevice`.
    public var type: String?

    public init(path: String, type: String? = nil) {
        self.path = path
        self.type = type
    }
}

/// Kubernetes `PersistentVolumeStatus`.
public struct PersistentVolumeStatus: Codable, Sendable, Equatable {
    /// `Pending`, `Available`, `Bound`, `Released` or `Failed`.
    public var phase: String?
    public var message: String?
    public var reason: String?
    public var lastPhaseTransitionTime: String?

    public init() {}
}
