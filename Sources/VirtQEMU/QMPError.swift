import VirtError

/// What went wrong talking to QEMU over QMP. Thrown as the `cause` of a `VirtError`.
public enum QMPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The socket path does not fit in a unix socket address.
    case socketPathTooLong(path: String, limit: Int)
    /// Connecting failed in a way retrying cannot fix (permissions, not a socket…).
    case connectFailed(path: String, reason: String)
    /// Nothing accepted a QMP session on the path before the deadline.
    case connectTimedOut(path: String, seconds: Double, lastError: String)
    /// The peer did not start with QMP's greeting.
    case notQMP(path: String, received: String)
    /// QEMU answered the command with an error.
    case commandFailed(command: String, errorClass: String, description: String)
    /// QEMU did not answer in time.
    case timedOut(command: String, seconds: Double)
    /// The connection ended (QEMU exited, or the client was closed) before the answer came.
    case disconnected(path: String)
    /// QEMU sent something that is not QMP.
    case malformedMessage(String)

    public var description: String {
        switch self {
        case .socketPathTooLong(let path, let limit):
            "the QMP socket path \(path) is longer than the \(limit) bytes a unix socket address holds; use a shorter directory"
        case .connectFailed(let path, let reason):
            "cannot connect to QMP at \(path): \(reason); check that the path is QEMU's QMP socket and that this process may open it"
        case .connectTimedOut(let path, let seconds, let lastError):
            "QEMU did not accept a QMP session at \(path) within \(Self.format(seconds)) (last error: \(lastError)); "
                + "check that QEMU is running with a QMP server on this path, and read its log for why it did not start"
        case .notQMP(let path, let received):
            "the socket at \(path) does not speak QMP (it sent \(received.prefix(120))); point the client at QEMU's QMP socket, not the serial or VNC socket"
        case .commandFailed(let command, let errorClass, let description):
            "QEMU refused \(command): \(description) (\(errorClass))"
        case .timedOut(let command, let seconds):
            "QEMU did not answer \(command) within \(Self.format(seconds)); its main loop may be blocked (stuck storage, a migration); "
                + "check the QEMU process and its log"
        case .disconnected(let path):
            "the QMP connection at \(path) closed: QEMU exited or was killed; read the VM's QEMU log for why"
        case .malformedMessage(let text):
            "QEMU sent a message that is not QMP: \(text.prefix(200))"
        }
    }

    /// The `VirtError` code this failure maps to.
    public var code: VirtError.Code {
        switch self {
        case .socketPathTooLong, .malformedMessage, .notQMP: .internal
        case .connectFailed, .disconnected: .serviceUnavailable
        case .connectTimedOut, .timedOut: .timeout
        case .commandFailed(_, let errorClass, _):
            switch errorClass {
            case "CommandNotFound": .unsupported
            case "DeviceNotFound": .notFound
            default: .invalidState
            }
        }
    }

    /// This error wrapped as SwiftVirt's error.
    public var virtError: VirtError {
        VirtError(code, description, cause: self)
    }

    static func format(_ seconds: Double) -> String {
        seconds < 10 ? "\((seconds * 1000).rounded() / 1000) s" : "\(Int(seconds.rounded())) s"
    }
}
