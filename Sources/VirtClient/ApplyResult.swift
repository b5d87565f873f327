import VirtAPI

/// What a server-side apply returned.
public struct ApplyResult: Sendable {
    /// The object as stored after the apply.
    public var object: JSONValue
    /// True when the server created the object (HTTP 201).
    public var created: Bool

    /// Creates a result.
    public init(object: JSONValue, created: Bool) {
        self.object = object
        self.created = created
    }
}
