/// kubevirt.io/v1 `VirtualMachineInstance`: one running (or about to run) virtual machine.
public struct VirtualMachineInstance: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: VirtualMachineInstanceSpec
    public var status: VirtualMachineInstanceStatus?

    public init(metadata: ObjectMeta? = nil, spec: VirtualMachineInstanceSpec) {
        self.apiVersion = "kubevirt.io/v1"
        self.kind = "VirtualMachineInstance"
        self.metadata = metadata
        self.spec = spec
    }
}

/// KubeVirt `VirtualMachineInstanceSpec`: hardware, storage, networks and scheduling of a VMI.
public struct VirtualMachineInstanceSpec: Codable, Sendable, Equatable {
    public var priorityClassName: String?
    public var domain: DomainSpec
    public var nodeSelector: [String: String]?
    /// Kubernetes `Affinity`; kept opaque.
    public var affinity: JSONValue?
    public var schedulerName: String?
    public var serviceAccountName: String?
    /// Kubernetes `Toleration`s; kept opaque.
    public var tolerations: [JSONValue]?
    /// Kubernetes `TopologySpreadConstraint`s; kept opaque.
    public var topologySpreadConstraints: [JSONValue]?
    /// `None`, `LiveMigrate`, `LiveMigrateIfPossible` or `External`.
    public var evictionStrategy: String?
    /// `Paused` starts the VMI paused.
    public var startStrategy: String?
    public var terminationGracePeriodSeconds: Int64?
    public var volumes: [Volume]?
    /// Probes; kept opaque.
    public var livenessProbe: JSONValue?
    public var readinessProbe: JSONValue?
    public var hostname: String?
    public var subdomain: String?
    public var networks: [Network]?
    public var dnsPolicy: String?
    /// Kubernetes `PodDNSConfig`; kept opaque.
    public var dnsConfig: JSONValue?
    /// SSH keys and passwords to inject; kept opaque.
    public var accessCredentials: [JSONValue]?
    public var architecture: String?
    /// DRA resource claims; kept opaque.
    public var resourceClaims: [JSONValue]?
    /// Utility volumes; kept opaque.
    public var utilityVolumes: [JSONValue]?

    public init(domain: DomainSpec = DomainSpec()) {
        self.domain = domain
    }
}

extension VirtualMachineInstance: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        apiVersion = try object.optional("apiVersion")
        kind = try object.optional("kind")
        metadata = try object.optional("metadata")
        spec = try object.required("spec")
        status = try object.optional("status")
    }
}

extension VirtualMachineInstanceSpec: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        priorityClassName = try object.optional("priorityClassName")
        domain = try object.required("domain")
        nodeSelector = try object.optional("nodeSelector")
        affinity = try object.optional("affinity")
        schedulerName = try object.optional("schedulerName")
        serviceAccountName = try object.optional("serviceAccountName")
        tolerations = try object.optional("tolerations")
        topologySpreadConstraints = try object.optional("topologySpreadConstraints")
        evictionStrategy = try object.optional("evictionStrategy")
        startStrategy = try object.optional("startStrategy")
        terminationGracePeriodSeconds = try object.optional("terminationGracePeriodSeconds")
        volumes = try object.optional("volumes")
        livenessProbe = try object.optional("livenessProbe")
        readinessProbe = try object.optional("readinessProbe")
        hostname = try object.optional("hostname")
        subdomain = try object.optional("subdomain")
        networks = try object.optional("networks")
        dnsPolicy = try object.optional("dnsPolicy")
        dnsConfig = try object.optional("dnsConfig")
        accessCredentials = try object.optional("accessCredentials")
        architecture = try object.optional("architecture")
        resourceClaims = try object.optional("resourceClaims")
        utilityVolumes = try object.optional("utilityVolumes")
    }
}
