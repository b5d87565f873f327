/// core/v1 `Node`: a machine that runs pods (registered by its node agent).
public struct Node: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: NodeSpec?
    public var status: NodeStatus?

    public init(metadata: ObjectMeta? = nil, spec: NodeSpec? = nil, status: NodeStatus? = nil) {
        self.apiVersion = "v1"
        self.kind = "Node"
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// Kubernetes `NodeSpec`.
public struct NodeSpec: Codable, Sendable, Equatable {
    public var podCIDR: String?
    public var podCIDRs: [String]?
    public var providerID: String?
    /// Cordoned: no new pods are scheduled here.
    public var unschedulable: Bool?
    public var taints: [Taint]?
    /// Deprecated dynamic kubelet config; kept opaque.
    public var configSource: JSONValue?
    public var externalID: String?
    public var podPreemptionPolicy: String?

    public init() {}
}

/// Kubernetes `Taint`: repels pods that do not tolerate it.
public struct Taint: Codable, Sendable, Equatable {
    public var key: String
    public var value: String?
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    public var effect: String
    public var timeAdded: String?

    public init(key: String, value: String? = nil, effect: String) {
        self.key = key
        self.value = value
        self.effect = effect
    }
}

/// Kubernetes `NodeStatus`.
public struct NodeStatus: Codable, Sendable, Equatable {
    public var capacity: ResourceList?
    public var allocatable: ResourceList?
    public var phase: String?
    public var conditions: [Condition]?
    public var addresses: [NodeAddress]?
    /// Kubelet endpoint; kept opaque.
    public var daemonEndpoints: JSONValue?
    /// Kernel, OS, architecture, runtime versions; kept opaque.
    public var nodeInfo: JSONValue?
    public var images: [JSONValue]?
    public var volumesInUse: [String]?
    public var volumesAttached: [JSONValue]?
    public var config: JSONValue?
    public var runtimeHandlers: [JSONValue]?
    public var features: JSONValue?
    public var declaredFeatures: [String]?

    public init() {}
}

/// Kubernetes `NodeAddress`.
public struct NodeAddress: Codable, Sendable, Equatable {
    /// `Hostname`, `InternalIP`, `ExternalIP`, `InternalDNS` or `ExternalDNS`.
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}
