import VirtAPI

/// A change an ``Informer`` saw, delivered to its handlers after its cache has taken it in.
public struct InformerEvent: Sendable {
    /// What happened.
    public enum Kind: String, Sendable {
        case added, modified, deleted
    }

    public var kind: Kind
    /// The object as it is now (for `deleted`: its last state).
    public var object: JSONValue
    /// The cached object it replaced (`modified`), or `nil`.
    public var oldObject: JSONValue?

    public init(kind: Kind, object: JSONValue, oldObject: JSONValue? = nil) {
        self.kind = kind
        self.object = object
        self.oldObject = oldObject
    }

    /// The key of ``object``.
    public var key: ObjectKey? { ObjectKey(object: object) }
}
