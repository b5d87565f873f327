/// core/v1 `Event`: something that happened to an object (`kubectl describe` shows them).
public struct Event: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var source: EventSource?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var count: Int32?
    /// `Normal` or `Warning`.
    public var type: String?
    /// RFC 3339 time with microseconds.
    public var eventTime: String?
    /// `{count, lastObservedTime}`; kept opaque.
    public var series: JSONValue?
    public var action: String?
    /// A second object involved; kept opaque.
    public var related: JSONValue?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public init(metadata: ObjectMeta? = nil, involvedObject: ObjectReference) {
        self.apiVersion = "v1"
        self.kind = "Event"
        self.metadata = metadata
        self.involvedObject = involvedObject
    }
}

/// Kubernetes `ObjectReference`.
public struct ObjectReference: Codable, Sendable, Equatable {
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil, apiVersion: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
    }
}

/// Kubernetes `EventSource`: who reported an event.
public struct EventSource: Codable, Sendable, Equatable {
    public var component: String?
    public var host: String?

    public init(component: String? = nil, host: String? = nil) {
        self.component = component
        self.host = host
    }
}
