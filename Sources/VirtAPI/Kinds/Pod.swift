/// core/v1 `Pod`: a sandbox run by a node agent; each VMI runs in a launcher pod.
public struct Pod: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: PodSpec?
    public var status: PodStatus?

    public init(metadata: ObjectMeta? = nil, spec: PodSpec? = nil) {
        self.apiVersion = "v1"
        self.kind = "Pod"
        self.metadata = metadata
        self.spec = spec
    }
}

/// Kubernetes `PodSpec`. What the scheduler and node agent act on is typed; the rest is opaque.
public struct PodSpec: Codable, Sendable, Equatable {
    /// Pod volumes; kept opaque.
    public var volumes: [JSONValue]?
    public var initContainers: [JSONValue]?
    public var containers: [Container]
    public var ephemeralContainers: [JSONValue]?
    /// `Always`, `OnFailure` or `Never`.
    public var restartPolicy: String?
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    public var dnsPolicy: String?
    public var nodeSelector: [String: String]?
    public var serviceAccountName: String?
    public var serviceAccount: String?
    public var automountServiceAccountToken: Bool?
    /// The node the pod is bound to.
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var hostPID: Bool?
    public var hostIPC: Bool?
    public var shareProcessNamespace: Bool?
    public var securityContext: JSONValue?
    public var imagePullSecrets: [LocalObjectReference]?
    public var hostname: String?
    public var subdomain: String?
    /// Node and pod (anti-)affinity; kept opaque here, read by the scheduler.
    public var affinity: JSONValue?
    public var schedulerName: String?
    public var tolerations: [JSONValue]?
    public var hostAliases: [JSONValue]?
    public var priorityClassName: String?
    public var priority: Int32?
    public var dnsConfig: JSONValue?
    public var readinessGates: [JSONValue]?
    public var runtimeClassName: String?
    public var enableServiceLinks: Bool?
    public var preemptionPolicy: String?
    public var overhead: ResourceList?
    public var topologySpreadConstraints: [JSONValue]?
    public var setHostnameAsFQDN: Bool?
    public var os: JSONValue?
    public var hostUsers: Bool?
    public var schedulingGates: [JSONValue]?
    public var resourceClaims: [JSONValue]?
    public var resources: ResourceRequirements?
    public var hostnameOverride: String?

    public init(containers: [Container] = []) { self.containers = containers }
}

/// Kubernetes `Container`.
public struct Container: Codable, Sendable, Equatable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var ports: [JSONValue]?
    public var envFrom: [JSONValue]?
    public var env: [JSONValue]?
    public var resources: ResourceRequirements?
    public var resizePolicy: [JSONValue]?
    public var restartPolicy: String?
    public var restartPolicyRules: [JSONValue]?
    public var volumeMounts: [JSONValue]?
    public var volumeDevices: [JSONValue]?
    public var livenessProbe: JSONValue?
    public var readinessProbe: JSONValue?
    public var startupProbe: JSONValue?
    public var lifecycle: JSONValue?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: String?
    public var imagePullPolicy: String?
    public var securityContext: JSONValue?
    public var stdin: Bool?
    public var stdinOnce: Bool?
    public var tty: Bool?

    public init(name: String, image: String? = nil) {
        self.name = name
        self.image = image
    }
}

/// Kubernetes `PodStatus`.
public struct PodStatus: Codable, Sendable, Equatable {
    public var observedGeneration: Int64?
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String?
    public var conditions: [Condition]?
    public var message: String?
    public var reason: String?
    public var nominatedNodeName: String?
    public var hostIP: String?
    public var hostIPs: [PodIP]?
    public var podIP: String?
    public var podIPs: [PodIP]?
    public var startTime: String?
    public var initContainerStatuses: [JSONValue]?
    public var containerStatuses: [JSONValue]?
    /// `Guaranteed`, `Burstable` or `BestEffort`.
    public var qosClass: String?
    public var ephemeralContainerStatuses: [JSONValue]?
    public var resize: String?
    public var resourceClaimStatuses: [JSONValue]?
    public var allocatedResources: ResourceList?
    public var resources: ResourceRequirements?

    public init() {}
}

/// Kubernetes `PodIP` / `HostIP`: one address.
public struct PodIP: Codable, Sendable, Equatable {
    public var ip: String

    public init(ip: String) { self.ip = ip }
}
