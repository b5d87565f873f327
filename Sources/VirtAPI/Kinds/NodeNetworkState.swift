/// nmstate.io/v1beta1 `NodeNetworkConfigurationEnactment`: how one policy went on one node, named
/// `<node>.<policy>`, written by that node's agent.
public struct NodeNetworkConfigurationEnactment: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    /// `desiredState`, `policyGeneration` and the five conditions (Failing, Available, Progressing,
    /// Pending, Aborted); kept opaque.
    public var status: JSONValue?

    public init(metadata: ObjectMeta? = nil) {
        self.apiVersion = "nmstate.io/v1beta1"
        self.kind = "NodeNetworkConfigurationEnactment"
        self.metadata = metadata
    }
}

/// nmstate.io/v1beta1 `NodeNetworkState`: a node's interfaces as its agent last read them, named as the node.
public struct NodeNetworkState: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    /// `currentState` (the nmstate document of the node's interfaces) and `lastSuccessfulUpdateTime`; kept opaque.
    public var status: JSONValue?

    public init(metadata: ObjectMeta? = nil) {
        self.apiVersion = "nmstate.io/v1beta1"
        self.kind = "NodeNetworkState"
        self.metadata = metadata
    }
}
