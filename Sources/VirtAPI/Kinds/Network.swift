/// KubeVirt `Network`: where an interface of the same name connects (`spec.networks[]`).
public struct Network: Codable, Sendable, Equatable {
    public var name: String
    public var pod: PodNetwork?
    public var multus: MultusNetwork?
    /// A DRA resource claim as the network; kept opaque.
    public var resourceClaim: JSONValue?

    public init(name: String, pod: PodNetwork? = nil, multus: MultusNetwork? = nil) {
        self.name = name
        self.pod = pod
        self.multus = multus
    }
}

/// KubeVirt `PodNetwork`: the pod's own network.
public struct PodNetwork: Codable, Sendable, Equatable {
    public var vmNetworkCIDR: String?
    public var vmIPv6NetworkCIDR: String?

    public init() {}
}

/// KubeVirt `MultusNetwork`: a secondary network from a NetworkAttachmentDefinition.
public struct MultusNetwork: Codable, Sendable, Equatable {
    /// `name` or `namespace/name` of the NetworkAttachmentDefinition.
    public var networkName: String?
    public var `default`: Bool?

    public init(networkName: String? = nil) { self.networkName = networkName }
}

extension Network: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.required("name")
        pod = try object.optional("pod")
        multus = try object.optional("multus")
        resourceClaim = try object.optional("resourceClaim")
    }
}

extension PodNetwork: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        vmNetworkCIDR = try object.optional("vmNetworkCIDR")
        vmIPv6NetworkCIDR = try object.optional("vmIPv6NetworkCIDR")
    }
}

extension MultusNetwork: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        networkName = try object.optional("networkName")
        self.default = try object.optional("default")
    }
}
