/// cdi.kubevirt.io/v1beta1 `DataVolume`: a PVC plus the import that fills it.
public struct DataVolume: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: DataVolumeSpec
    public var status: DataVolumeStatus?

    public init(metadata: ObjectMeta? = nil, spec: DataVolumeSpec) {
        self.apiVersion = "cdi.kubevirt.io/v1beta1"
        self.kind = "DataVolume"
        self.metadata = metadata
        self.spec = spec
    }
}

/// CDI `DataVolumeSpec`: exactly one of `source` / `sourceRef`, and one of `pvc` / `storage`.
public struct DataVolumeSpec: Codable, Sendable, Equatable {
    public var source: DataVolumeSource?
    /// A DataSource reference; kept opaque.
    public var sourceRef: JSONValue?
    /// The PVC to create, verbatim.
    public var pvc: PersistentVolumeClaimSpec?
    /// The PVC to create, with CDI filling in what is missing.
    public var storage: PersistentVolumeClaimSpec?
    public var priorityClassName: String?
    public var serviceAccountName: String?
    /// `kubevirt` (a disk image) or `archive`.
    public var contentType: String?
    /// Multi-stage import checkpoints; kept opaque.
    public var checkpoints: [JSONValue]?
    public var finalCheckpoint: Bool?
    public var preallocation: Bool?

    public init(source: DataVolumeSource? = nil, pvc: PersistentVolumeClaimSpec? = nil, storage: PersistentVolumeClaimSpec? = nil) {
        self.source = source
        self.pvc = pvc
        self.storage = storage
    }
}

/// CDI `DataVolumeSource`: where the data comes from (exactly one).
public struct DataVolumeSource: Codable, Sendable, Equatable {
    public var http: DataVolumeSourceHTTP?
    /// S3 bucket; kept opaque.
    public var s3: JSONValue?
    /// Google Cloud Storage; kept opaque.
    public var gcs: JSONValue?
    /// Container registry; kept opaque.
    public var registry: JSONValue?
    public var pvc: DataVolumeSourcePVC?
    /// Filled by `virtctl image-upload`.
    public var upload: EmptyObject?
    /// An empty disk image.
    public var blank: EmptyObject?
    /// oVirt imageio; kept opaque.
    public var imageio: JSONValue?
    /// VMware VDDK; kept opaque.
    public var vddk: JSONValue?
    /// A VolumeSnapshot; kept opaque.
    public var snapshot: JSONValue?

    public init() {}

    /// The names of the source types set (valid sources have exactly one).
    public var sourceTypes: [String] {
        var types: [String] = []
        if http != nil { types.append("http") }
        if s3 != nil { types.append("s3") }
        if gcs != nil { types.append("gcs") }
        if registry != nil { types.append("registry") }
        if pvc != nil { types.append("pvc") }
        if upload != nil { types.append("upload") }
        if blank != nil { types.append("blank") }
        if imageio != nil { types.append("imageio") }
        if vddk != nil { types.append("vddk") }
        if snapshot != nil { types.append("snapshot") }
        return types
    }
}

/// CDI `DataVolumeSourceHTTP`: download from a URL.
public struct DataVolumeSourceHTTP: Codable, Sendable, Equatable {
    public var url: String
    /// Secret with `accessKeyId` / `secretKey` for basic auth.
    public var secretRef: String?
    /// ConfigMap with a CA bundle.
    public var certConfigMap: String?
    public var extraHeaders: [String]?
    public var secretExtraHeaders: [String]?
    /// `sha256:<hex>` and friends.
    public var checksum: String?

    public init(url: String) { self.url = url }
}

/// CDI `DataVolumeSourcePVC`: clone another PVC.
public struct DataVolumeSourcePVC: Codable, Sendable, Equatable {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }
}

/// CDI `DataVolumeStatus`.
public struct DataVolumeStatus: Codable, Sendable, Equatable {
    public var claimName: String?
    /// `Pending`, `PVCBound`, `ImportScheduled`, `ImportInProgress`, `Succeeded`, `Failed`, `WaitForFirstConsumer`, …
    public var phase: String?
    /// `N/A` or a percentage such as `45.20%`.
    public var progress: String?
    public var restartCount: Int32?
    public var conditions: [Condition]?

    public init() {}
}
