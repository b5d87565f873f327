/// A reconcile failure that retrying cannot fix (an object that does not decode, a spec the controller
/// cannot act on): the controller logs it and forgets the key until the object changes again.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, for the log.
    public var message: String
    /// The error behind it.
    public var cause: (any Error & Sendable)?

    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }

    public var description: String {
        cause.map { "\(message): \($0)" } ?? message
    }
}
