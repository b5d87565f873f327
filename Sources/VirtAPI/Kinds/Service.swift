/// core/v1 `Service` (named so beside swift-service-lifecycle's `Service`): a stable address (and, with `type: NodePort`, a port on every node) in front of the
/// pods its selector picks, carried to them by each node's rules.
public struct KubeService: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: ServiceSpec?
    /// `loadBalancer`, `conditions`; kept opaque.
    public var status: JSONValue?

    public init(metadata: ObjectMeta? = nil, spec: ServiceSpec? = nil) {
        self.apiVersion = "v1"
        self.kind = "Service"
        self.metadata = metadata
        self.spec = spec
    }
}

/// core/v1 `ServiceSpec`.
public struct ServiceSpec: Codable, Sendable, Equatable {
    /// `ClusterIP` (the default), `NodePort`, `LoadBalancer` or `ExternalName`.
    public var type: String?
    public var selector: [String: String]?
    public var ports: [ServicePort]?
    public var clusterIP: String?
    public var clusterIPs: [String]?
    public var externalIPs: [String]?
    public var externalName: String?
    public var sessionAffinity: String?
    public var sessionAffinityConfig: JSONValue?
    public var externalTrafficPolicy: String?
    public var internalTrafficPolicy: String?
    public var ipFamilies: [String]?
    public var ipFamilyPolicy: String?
    public var loadBalancerIP: String?
    public var loadBalancerSourceRanges: [String]?
    public var loadBalancerClass: String?
    public var allocateLoadBalancerNodePorts: Bool?
    public var healthCheckNodePort: Int?
    public var publishNotReadyAddresses: Bool?
    public var trafficDistribution: String?

    public init(type: String? = nil, selector: [String: String]? = nil, ports: [ServicePort]? = nil) {
        self.type = type
        self.selector = selector
        self.ports = ports
    }
}

/// core/v1 `ServicePort`.
public struct ServicePort: Codable, Sendable, Equatable {
    public var name: String?
    /// `TCP` (the default), `UDP` or `SCTP`.
    public var `protocol`: String?
    public var port: Int
    /// A port number or the name of a container port; defaults to `port`.
    public var targetPort: JSONValue?
    public var nodePort: Int?
    public var appProtocol: String?

    public init(name: String? = nil, protocol: String? = nil, port: Int, targetPort: JSONValue? = nil, nodePort: Int? = nil) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
        self.targetPort = targetPort
        self.nodePort = nodePort
    }

    /// The port the endpoints listen on: `targetPort` when it is a number, else `port`.
    public var targetPortNumber: Int {
        if let number = targetPort?.intValue, (1...65535).contains(number) { return Int(number) }
        return port
    }
}

/// discovery.k8s.io/v1 `EndpointSlice`: the addresses behind a Service, kept by the controllers.
public struct EndpointSlice: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    /// `IPv4`, `IPv6` or `FQDN`.
    public var addressType: String
    /// Each with `addresses`, `conditions` (ready, serving, terminating), `nodeName`, `targetRef`; kept opaque.
    public var endpoints: [JSONValue]?
    /// Each with `name`, `port`, `protocol`; kept opaque.
    public var ports: [JSONValue]?

    public init(metadata: ObjectMeta? = nil, addressType: String = "IPv4") {
        self.apiVersion = "discovery.k8s.io/v1"
        self.kind = "EndpointSlice"
        self.metadata = metadata
        self.addressType = addressType
    }
}

/// Where Services get their addresses and node ports.
public enum ServiceNames {
    /// The cluster IPs' range.
    public static let clusterIPRange = IPv4CIDR(containing: IPv4Address(0x0a60_0000), prefixLength: 16)
    /// The node ports' range, as Kubernetes' default.
    public static let nodePortRange = 30000...32767
    /// `sessionAffinity: ClientIP`'s timeout when none is given: three hours, as Kubernetes'.
    public static let defaultAffinitySeconds = 10800
    /// On an EndpointSlice: the Service it belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// On an EndpointSlice: who keeps it.
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    public static let managedBy = "endpointslice-controller.k8s.io"

    /// The cluster IP a Service is offered first, from its namespace and name (`attempt` > 0: the next
    /// ones, after a clash). Never the range's network, broadcast or first address.
    public static func clusterIP(namespace: String, name: String, attempt: Int = 0) -> IPv4Address {
        let size = UInt32(1) << UInt32(32 - clusterIPRange.prefixLength)
        let offset = UInt32(truncatingIfNeeded: FNV1a.hash64("\(namespace)/\(name)/\(attempt)")) % (size - 3) + 2
        return IPv4Address(clusterIPRange.network.value + offset)
    }

    /// The node port a Service port is offered first (`attempt` > 0: the next ones).
    public static func nodePort(namespace: String, name: String, port: Int, attempt: Int = 0) -> Int {
        let count = UInt64(nodePortRange.count)
        return nodePortRange.lowerBound + Int(FNV1a.hash64("\(namespace)/\(name)/\(port)/\(attempt)") % count)
    }

}
