/// coordination.k8s.io/v1 `Lease`: node heartbeats and leader election.
public struct Lease: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: LeaseSpec?

    public init(metadata: ObjectMeta? = nil, spec: LeaseSpec? = nil) {
        self.apiVersion = "coordination.k8s.io/v1"
        self.kind = "Lease"
        self.metadata = metadata
        self.spec = spec
    }
}

/// Kubernetes `LeaseSpec`.
public struct LeaseSpec: Codable, Sendable, Equatable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int32?
    /// RFC 3339 time with microseconds.
    public var acquireTime: String?
    public var renewTime: String?
    public var leaseTransitions: Int32?
    public var strategy: String?
    public var preferredHolder: String?

    public init(holderIdentity: String? = nil, leaseDurationSeconds: Int32? = nil) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
    }
}
