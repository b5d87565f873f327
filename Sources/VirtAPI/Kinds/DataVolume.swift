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
    /// A DataSource to copy from, instead of `source`.
    public var sourceRef: DataVolumeSourceRef?
    /// The PVC to create, verbatim.
    public var pvc: PersistentVolumeClaimSpec?
    /// The PVC to create, with CDI filling in what is missing.
    public var storage: PersistentVolumeClaimSpec?
    public var priorityClassName: String?
    public var serviceAccountName: String?
    /// `kubevirt` (a disk image) or `archive`.
    public var contentType: String?
    /// Multi-stage import checkpoints (VDDK and imageio warm imports).
    public var checkpoints: [DataVolumeCheckpoint]?
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
    public var s3: DataVolumeSourceS3?
    public var gcs: DataVolumeSourceGCS?
    public var registry: DataVolumeSourceRegistry?
    public var pvc: DataVolumeSourcePVC?
    /// Filled by `virtctl image-upload`.
    public var upload: EmptyObject?
    /// An empty disk image.
    public var blank: EmptyObject?
    public var imageio: DataVolumeSourceImageIO?
    public var vddk: DataVolumeSourceVDDK?
    /// A VolumeSnapshot to restore, by namespace and name (the shape of a PVC source).
    public var snapshot: DataVolumeSourcePVC?

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

/// CDI `DataVolumeSourceRef`: a `DataSource` (the only kind CDI accepts) whose source is copied.
public struct DataVolumeSourceRef: Codable, Sendable, Equatable {
    public var kind: String?
    /// The DataSource's namespace; the DataVolume's own when unset.
    public var namespace: String?
    public var name: String?

    public init(kind: String? = "DataSource", name: String? = nil) {
        self.kind = kind
        self.name = name
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
    /// Whether the server's TLS certificate is accepted without checking it.
    public var insecureSkipVerify: Bool?

    public init(url: String) { self.url = url }
}

/// CDI `DataVolumeSourceS3`: an object in an S3 bucket.
public struct DataVolumeSourceS3: Codable, Sendable, Equatable {
    public var url: String
    /// Secret with `accessKeyId` / `secretKey`.
    public var secretRef: String?
    public var certConfigMap: String?

    public init(url: String) { self.url = url }
}

/// CDI `DataVolumeSourceGCS`: an object in Google Cloud Storage.
public struct DataVolumeSourceGCS: Codable, Sendable, Equatable {
    public var url: String
    /// Secret with the service account key.
    public var secretRef: String?

    public init(url: String) { self.url = url }
}

/// CDI `DataVolumeSourceRegistry`: a container image holding a disk (exactly one of `url` and `imageStream`).
public struct DataVolumeSourceRegistry: Codable, Sendable, Equatable {
    /// `docker://…` or `oci-archive://…`.
    public var url: String?
    /// An OpenShift ImageStream, with `pullMethod: node`.
    public var imageStream: String?
    /// `pod` (the importer pulls) or `node` (the node's container runtime pulls).
    public var pullMethod: String?
    public var secretRef: String?
    public var certConfigMap: String?
    /// `{architecture}` of a multi-architecture image.
    public var platform: DataVolumeSourceRegistryPlatform?

    public init(url: String? = nil) { self.url = url }
}

/// CDI `PlatformOptions`: which image of a multi-architecture index to import.
public struct DataVolumeSourceRegistryPlatform: Codable, Sendable, Equatable {
    public var architecture: String?

    public init(architecture: String? = nil) { self.architecture = architecture }
}

/// CDI `DataVolumeSourcePVC`: clone another PVC (also the shape of a snapshot source).
public struct DataVolumeSourcePVC: Codable, Sendable, Equatable {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }
}

/// CDI `DataVolumeSourceImageIO`: a disk of an oVirt engine.
public struct DataVolumeSourceImageIO: Codable, Sendable, Equatable {
    public var url: String
    public var diskId: String?
    public var secretRef: String?
    public var certConfigMap: String?
    public var insecureSkipVerify: Bool?

    public init(url: String) { self.url = url }
}

/// CDI `DataVolumeSourceVDDK`: a VMware disk read through VDDK.
public struct DataVolumeSourceVDDK: Codable, Sendable, Equatable {
    public var url: String?
    public var uuid: String?
    public var backingFile: String?
    public var thumbprint: String?
    public var secretRef: String?
    public var certConfigMap: String?
    public var initImageURL: String?
    public var extraArgs: String?

    public init() {}
}

/// CDI `DataVolumeCheckpoint`: one stage of a multi-stage import.
public struct DataVolumeCheckpoint: Codable, Sendable, Equatable {
    public var previous: String
    public var current: String

    public init(previous: String, current: String) {
        self.previous = previous
        self.current = current
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
