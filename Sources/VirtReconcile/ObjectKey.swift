import VirtAPI

/// What a controller's work queue holds: the namespace and name of one object (no namespace for
/// cluster-scoped kinds such as Node). A reconciler looks the object up again by key, so it always acts on
/// current state, never on the event that woke it.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The namespace, or `nil` for cluster-scoped objects.
    public var namespace: String?
    /// The object's name.
    public var name: String

    /// Creates a key. An empty namespace means cluster-scoped.
    public init(namespace: String?, name: String) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    /// The key of an object (`metadata.namespace` / `metadata.name`), or `nil` when it has no name.
    public init?(object: JSONValue) {
        guard let name = object[path: ["metadata", "name"]]?.stringValue, !name.isEmpty else { return nil }
        self.init(namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: name)
    }

    /// `namespace/name`, or `name` for cluster-scoped objects (client-go's `MetaNamespaceKeyFunc`).
    public var description: String {
        namespace.map { "\($0)/\(name)" } ?? name
    }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace ?? "", lhs.name) < (rhs.namespace ?? "", rhs.name)
    }
}
