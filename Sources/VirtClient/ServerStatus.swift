import VirtAPI

/// The answer of an API server that refused a request, kept as the `cause` of the `VirtError` a
/// ``KubeClient`` throws.
///
/// Its presence tells "the server said no" (`Error from server (NotFound): …`) apart from failures on the way
/// to the server, and it keeps the exact `reason` string and HTTP status, which `VirtError.Code` folds together.
public struct ServerStatus: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code of the response (or of an `ERROR` watch event's `Status.code`).
    public var httpStatus: Int
    /// `Status.reason` as sent, or the reason Kubernetes uses for `httpStatus` when the body carried none.
    public var reason: String
    /// The `Status` object itself, when the body was one.
    public var status: JSONValue?

    /// Creates a server status.
    public init(httpStatus: Int, reason: String, status: JSONValue? = nil) {
        self.httpStatus = httpStatus
        self.reason = reason
        self.status = status
    }

    /// `HTTP 404 NotFound`.
    public var description: String { "HTTP \(httpStatus) \(reason)" }
}
