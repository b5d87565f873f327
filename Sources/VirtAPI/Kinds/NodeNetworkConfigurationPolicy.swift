/// nmstate.io/v1 `NodeNetworkConfigurationPolicy`: desired host networking on the selected nodes.
public struct NodeNetworkConfigurationPolicy: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: NodeNetworkConfigurationPolicySpec?
    /// Enactment conditions; kept opaque.
    public var status: JSONValue?

    public init(metadata: ObjectMeta? = nil, spec: NodeNetworkConfigurationPolicySpec? = nil) {
        self.apiVersion = "nmstate.io/v1"
        self.kind = "NodeNetworkConfigurationPolicy"
        self.metadata = metadata
        self.spec = spec
    }
}

/// nmstate `NodeNetworkConfigurationPolicySpec`.
public struct NodeNetworkConfigurationPolicySpec: Codable, Sendable, Equatable {
    public var nodeSelector: [String: String]?
    /// Tolerations for the enactment; kept opaque.
    public var tolerations: [JSONValue]?
    /// The nmstate document (interfaces, routes, dns-resolver); kept opaque.
    public var desiredState: JSONValue?
    /// An int or a percentage string; kept opaque.
    public var maxUnavailable: JSONValue?
    /// Named nmpolicy captures.
    public var capture: [String: String]?

    public init() {}
}
