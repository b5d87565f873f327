/// A failure below HTTP (connection, TLS), described as text so it can travel as a `Sendable` cause.
public struct TransportFailure: Error, Sendable, CustomStringConvertible {
    /// What the HTTP/TLS stack reported.
    public var description: String
    /// Creates a failure with its description.
    public init(description: String) { self.description = description }
}
