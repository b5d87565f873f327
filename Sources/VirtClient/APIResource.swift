/// One resource type a server serves, as discovery describes it (an `APIResourceList` entry plus its
/// group and version).
public struct APIResource: Sendable, Hashable {
    /// The API group; empty for the core group.
    public var group: String
    /// The API version, e.g. `v1`.
    public var version: String
    /// The plural resource name used in URLs, e.g. `virtualmachines`.
    public var name: String
    /// The singular name, e.g. `virtualmachine`.
    public var singularName: String
    /// The kind, e.g. `VirtualMachine`.
    public var kind: String
    /// Whether objects live in a namespace.
    public var namespaced: Bool
    /// Short names such as `vm`, `vms`.
    public var shortNames: [String]
    /// Categories such as `all`.
    public var categories: [String]
    /// Verbs the server allows, e.g. `get`, `list`, `watch`, `patch`.
    public var verbs: [String]

    /// Creates a resource description. An empty `singularName` defaults to the lower-cased kind.
    public init(
        group: String,
        version: String,
        name: String,
        singularName: String = "",
        kind: String,
        namespaced: Bool,
        shortNames: [String] = [],
        categories: [String] = [],
        verbs: [String] = []
    ) {
        self.group = group
        self.version = version
        self.name = name
        self.singularName = singularName.isEmpty ? kind.lowercased() : singularName
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.verbs = verbs
    }

    /// `group/version`, or `version` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `virtualmachines.kubevirt.io`, or `pods` for the core group: how errors name the resource.
    public var qualifiedName: String { group.isEmpty ? name : "\(name).\(group)" }

    /// `virtualmachine.kubevirt.io`, or `pod` for the core group: how kubectl names objects in its output
    /// (`virtualmachine.kubevirt.io/vm1 created`).
    public var kindQualifiedName: String {
        let lower = kind.lowercased()
        return group.isEmpty ? lower : "\(lower).\(group)"
    }

    /// The REST path of this resource; `namespace` is dropped for cluster-scoped resources.
    public func path(namespace: String? = nil, name objectName: String? = nil, subresource: String? = nil) -> ResourcePath {
        ResourcePath(
            group: group,
            version: version,
            resource: name,
            namespace: namespaced ? namespace : nil,
            name: objectName,
            subresource: subresource
        )
    }

    /// Whether the server allows `verb` (true when discovery listed no verbs at all).
    public func supports(_ verb: String) -> Bool { verbs.isEmpty || verbs.contains(verb) }
}
