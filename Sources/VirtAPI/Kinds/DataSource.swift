/// cdi.kubevirt.io/v1beta1 `DataSource`: a name for a populated PVC (a "golden image") that DataVolumes
/// clone through `spec.sourceRef`.
public struct DataSource: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: DataSourceSpec
    public var status: DataSourceStatus?

    public init(metadata: ObjectMeta? = nil, spec: DataSourceSpec) {
        self.apiVersion = CDINames.apiVersion
        self.kind = "DataSource"
        self.metadata = metadata
        self.spec = spec
    }
}

/// CDI `DataSourceSpec`.
public struct DataSourceSpec: Codable, Sendable, Equatable {
    public var source: DataSourceSource

    public init(source: DataSourceSource) { self.source = source }
}

/// CDI `DataSourceSource`: the PVC (or VolumeSnapshot) the DataSource names; exactly one.
public struct DataSourceSource: Codable, Sendable, Equatable {
    public var pvc: DataVolumeSourcePVC?
    /// A VolumeSnapshot (not served yet: refused at admission).
    public var snapshot: DataVolumeSourcePVC?

    public init(pvc: DataVolumeSourcePVC? = nil) { self.pvc = pvc }
}

/// CDI `DataSourceStatus`: `Ready` and the source it resolved to.
public struct DataSourceStatus: Codable, Sendable, Equatable {
    public var source: DataSourceSource?
    public var conditions: [Condition]?

    public init(source: DataSourceSource? = nil, conditions: [Condition]? = nil) {
        self.source = source
        self.conditions = conditions
    }
}
