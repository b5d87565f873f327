/// k8s.cni.cncf.io/v1 `NetworkAttachmentDefinition`: a Multus secondary network (a CNI config).
public struct NetworkAttachmentDefinition: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: NetworkAttachmentDefinitionSpec?

    public init(metadata: ObjectMeta? = nil, spec: NetworkAttachmentDefinitionSpec? = nil) {
        self.apiVersion = "k8s.cni.cncf.io/v1"
        self.kind = "NetworkAttachmentDefinition"
        self.metadata = metadata
        self.spec = spec
    }
}

/// Multus `NetworkAttachmentDefinitionSpec`.
public struct NetworkAttachmentDefinitionSpec: Codable, Sendable, Equatable {
    /// The CNI configuration as JSON text (a single plugin or a `plugins` list).
    public var config: String?

    public init(config: String? = nil) { self.config = config }
}
