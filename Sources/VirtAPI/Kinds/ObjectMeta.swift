/// Kubernetes `metav1.ObjectMeta`: the metadata every stored object carries.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var selfLink: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    /// RFC 3339 time, e.g. `2024-05-01T10:00:00Z`.
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Server-side apply bookkeeping; kept opaque.
    public var managedFields: JSONValue?

    public init(name: String? = nil, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace
    }
}

/// Kubernetes `metav1.OwnerReference`: the object that owns this one (garbage collection follows it).
public struct OwnerReference: Codable, Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

extension ObjectMeta: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.optional("name")
        generateName = try object.optional("generateName")
        namespace = try object.optional("namespace")
        selfLink = try object.optional("selfLink")
        uid = try object.optional("uid")
        resourceVersion = try object.optional("resourceVersion")
        generation = try object.optional("generation")
        creationTimestamp = try object.optional("creationTimestamp")
        deletionTimestamp = try object.optional("deletionTimestamp")
        deletionGracePeriodSeconds = try object.optional("deletionGracePeriodSeconds")
        labels = try object.optional("labels")
        annotations = try object.optional("annotations")
        ownerReferences = try object.optional("ownerReferences")
        finalizers = try object.optional("finalizers")
        managedFields = try object.optional("managedFields")
    }
}

extension OwnerReference: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        apiVersion = try object.required("apiVersion")
        kind = try object.required("kind")
        name = try object.required("name")
        uid = try object.required("uid")
        controller = try object.optional("controller")
        blockOwnerDeletion = try object.optional("blockOwnerDeletion")
    }
}
