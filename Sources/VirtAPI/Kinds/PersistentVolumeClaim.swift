/// core/v1 `PersistentVolumeClaim`: a request for storage.
public struct PersistentVolumeClaim: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: PersistentVolumeClaimSpec?
    public var status: PersistentVolumeClaimStatus?

    public init(metadata: ObjectMeta? = nil, spec: PersistentVolumeClaimSpec? = nil) {
        self.apiVersion = "v1"
        self.kind = "PersistentVolumeClaim"
        self.metadata = metadata
        self.spec = spec
    }
}

/// Kubernetes `PersistentVolumeClaimSpec` (also the `pvc` / `storage` of a DataVolume).
public struct PersistentVolumeClaimSpec: Codable, Sendable, Equatable {
    /// `ReadWriteOnce`, `ReadOnlyMany`, `ReadWriteMany` or `ReadWriteOncePod`.
    public var accessModes: [String]?
    /// A label selector over volumes; kept opaque.
    public var selector: JSONValue?
    public var resources: VolumeResourceRequirements?
    public var volumeName: String?
    public var storageClassName: String?
    /// `Filesystem` or `Block`.
    public var volumeMode: String?
    /// `{apiGroup, kind, name}`; kept opaque.
    public var dataSource: JSONValue?
    /// `{apiGroup, kind, name, namespace}`; kept opaque.
    public var dataSourceRef: JSONValue?
    public var volumeAttributesClassName: String?

    public init(accessModes: [String]? = nil, resources: VolumeResourceRequirements? = nil) {
        self.accessModes = accessModes
        self.resources = resources
    }
}

/// Kubernetes `VolumeResourceRequirements`: `requests.storage` is the size asked for.
public struct VolumeResourceRequirements: Codable, Sendable, Equatable {
    public var requests: ResourceList?
    public var limits: ResourceList?

    public init(requests: ResourceList? = nil, limits: ResourceList? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

/// Kubernetes `PersistentVolumeClaimStatus`.
public struct PersistentVolumeClaimStatus: Codable, Sendable, Equatable {
    /// `Pending`, `Bound` or `Lost`.
    public var phase: String?
    public var accessModes: [String]?
    public var capacity: ResourceList?
    /// Resize conditions; kept opaque.
    public var conditions: [JSONValue]?
    public var allocatedResources: ResourceList?
    public var allocatedResourceStatuses: [String: String]?
    public var currentVolumeAttributesClassName: String?
    public var modifyVolumeStatus: JSONValue?

    public init() {}
}
