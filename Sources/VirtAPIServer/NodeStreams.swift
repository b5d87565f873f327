import VirtError

/// The byte streams a node serves for the pods bound to it: a guest's serial console and VNC display, and
/// commands run inside a pod. The API server reaches them through this protocol; the all-in-one daemon
/// plugs in its own node agent, which serves the pods on this machine.
public protocol NodeStreams: Sendable {
    /// The node whose pods this serves.
    var nodeName: String { get }
    /// The unix socket on this machine carrying the stream of the launcher pod `namespace/pod`.
    func socketPath(_ stream: GuestStream, namespace: String, pod: String) async throws -> String
    /// Runs `command` in the pod's container to completion and returns what it printed and its exit code.
    func exec(namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> ExecOutcome
}

/// Which guest stream a client asked for.
public enum GuestStream: String, Sendable {
    /// The first serial port, raw bytes both ways.
    case console
    /// The VNC display, the RFB protocol both ways.
    case vnc
}

/// What a command run in a pod left behind.
public struct ExecOutcome: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var exitCode: Int32

    public init(stdout: [UInt8], stderr: [UInt8], exitCode: Int32) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }
}
