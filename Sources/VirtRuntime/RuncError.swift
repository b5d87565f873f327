import VirtError

/// What went wrong talking to runc, in words a user can act on. Thrown as the `cause` of a `VirtError`
/// whose code follows from the case (`notFound`, `exists`, `invalidState`, …).
public enum RuncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The runc binary is missing.
    case notInstalled(executable: String)
    /// No container with this id under the runc root.
    case containerNotFound(id: String, root: String)
    /// A container with this id already exists under the runc root.
    case containerExists(id: String, root: String)
    /// The container still runs; it must be stopped (or deleted with force) first.
    case containerRunning(id: String)
    /// The container is not running (kill, exec, pause of a stopped container).
    case containerNotRunning(id: String)
    /// The id cannot name a runc container.
    case invalidID(String)
    /// runc failed for another reason; `message` is runc's own.
    case commandFailed(command: String, exitCode: Int32, message: String)
    /// runc printed something other than the JSON it documents.
    case malformedOutput(command: String, detail: String)

    public var description: String {
        switch self {
        case .notInstalled(let executable):
            "runc is not installed (looked for '\(executable)'): run 'make deps' as root to install SwiftVirt's system packages"
        case .containerNotFound(let id, let root):
            "container \(id) does not exist (runc root \(root))"
        case .containerExists(let id, let root):
            "container \(id) already exists (runc root \(root)): stop and delete it first"
        case .containerRunning(let id):
            "container \(id) is still running: stop it first, or delete it with force"
        case .containerNotRunning(let id):
            "container \(id) is not running"
        case .invalidID(let id):
            "'\(id)' is not a valid container id: use letters, digits, '_', '+', '-' and '.'"
        case .commandFailed(let command, let exitCode, let message):
            "\(command) failed with exit code \(exitCode)\(message.isEmpty ? "" : ": \(message)")"
        case .malformedOutput(let command, let detail):
            "\(command) printed unexpected output: \(detail)"
        }
    }

    /// The `VirtError` code this failure maps to.
    public var code: VirtError.Code {
        switch self {
        case .notInstalled: .serviceUnavailable
        case .containerNotFound: .notFound
        case .containerExists: .exists
        case .containerRunning, .containerNotRunning: .invalidState
        case .invalidID: .invalid
        case .commandFailed, .malformedOutput: .internal
        }
    }

    /// This error wrapped as SwiftVirt's error type; `context` says what was being done.
    public func wrapped(_ context: String) -> VirtError {
        VirtError(code, context, cause: self)
    }
}
