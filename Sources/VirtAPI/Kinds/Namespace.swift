/// core/v1 `Namespace`.
public struct Namespace: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: NamespaceSpec?
    public var status: NamespaceStatus?

    public init(metadata: ObjectMeta? = nil) {
        self.apiVersion = "v1"
        self.kind = "Namespace"
        self.metadata = metadata
    }
}

/// Kubernetes `NamespaceSpec`.
public struct NamespaceSpec: Codable, Sendable, Equatable {
    public var finalizers: [String]?

    public init(finalizers: [String]? = nil) { self.finalizers = finalizers }
}

/// Kubernetes `NamespaceStatus`.
public struct NamespaceStatus: Codable, Sendable, Equatable {
    /// `Active` or `Terminating`.
    public var phase: String?
    public var conditions: [Condition]?

    public init(phase: String? = nil) { self.phase = phase }
}
