/// migrations.kubevirt.io/v1alpha1 `MigrationPolicy`: migration settings for the VMIs it selects.
public struct MigrationPolicy: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: MigrationPolicySpec
    /// Empty upstream; kept opaque.
    public var status: JSONValue?

    public init(metadata: ObjectMeta? = nil, spec: MigrationPolicySpec) {
        self.apiVersion = "migrations.kubevirt.io/v1alpha1"
        self.kind = "MigrationPolicy"
        self.metadata = metadata
        self.spec = spec
    }
}

/// KubeVirt `MigrationPolicySpec`.
public struct MigrationPolicySpec: Codable, Sendable, Equatable {
    public var selectors: MigrationPolicySelectors?
    public var allowAutoConverge: Bool?
    /// Bytes per second, e.g. `64Mi`.
    public var bandwidthPerMigration: Quantity?
    public var completionTimeoutPerGiB: Int64?
    public var maxDowntimeMs: UInt64?
    public var allowPostCopy: Bool?
    public var allowWorkloadDisruption: Bool?
    /// Experimental tuning; kept opaque.
    public var experimental: JSONValue?

    public init() {}
}

/// KubeVirt migration policy `Selectors`: plain label maps (all must match).
public struct MigrationPolicySelectors: Codable, Sendable, Equatable {
    public var namespaceSelector: [String: String]?
    public var virtualMachineInstanceSelector: [String: String]?

    public init(namespaceSelector: [String: String]? = nil, virtualMachineInstanceSelector: [String: String]? = nil) {
        self.namespaceSelector = namespaceSelector
        self.virtualMachineInstanceSelector = virtualMachineInstanceSelector
    }
}
