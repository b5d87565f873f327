/// A status condition, in the union of the shapes Kubernetes and KubeVirt kinds use
/// (`lastProbeTime` on VMIs, `lastHeartbeatTime` on Nodes and DataVolumes, `observedGeneration` on Pods).
public struct Condition: Codable, Sendable, Equatable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastProbeTime: String?
    public var lastTransitionTime: String?
    public var lastHeartbeatTime: String?
    public var lastUpdateTime: String?
    public var observedGeneration: Int64?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

extension Condition: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        type = try object.required("type")
        status = try object.required("status")
        reason = try object.optional("reason")
        message = try object.optional("message")
        lastProbeTime = try object.optional("lastProbeTime")
        lastTransitionTime = try object.optional("lastTransitionTime")
        lastHeartbeatTime = try object.optional("lastHeartbeatTime")
        lastUpdateTime = try object.optional("lastUpdateTime")
        observedGeneration = try object.optional("observedGeneration")
    }
}
