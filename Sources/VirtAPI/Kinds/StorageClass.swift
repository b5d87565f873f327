/// storage.k8s.io/v1 `StorageClass`: how claims of this class are provisioned.
public struct StorageClass: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    /// The provisioner, e.g. `kubernetes.io/no-provisioner` or `swiftvirt.io/local`; required.
    public var provisioner: String
    public var parameters: [String: String]?
    /// `Delete` (default) or `Retain`.
    public var reclaimPolicy: String?
    public var mountOptions: [String]?
    public var allowVolumeExpansion: Bool?
    /// `Immediate` (default) or `WaitForFirstConsumer`.
    public var volumeBindingMode: String?
    /// Topology terms; kept opaque.
    public var allowedTopologies: [JSONValue]?

    public init(metadata: ObjectMeta? = nil, provisioner: String) {
        self.apiVersion = "storage.k8s.io/v1"
        self.kind = "StorageClass"
        self.metadata = metadata
        self.provisioner = provisioner
    }
}
