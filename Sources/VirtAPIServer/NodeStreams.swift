import NIOCore
import VirtError

/// What the API server asks of node agents: a guest's serial console and VNC display as byte streams,
/// commands run inside a launcher pod, and the verbs only the node can carry out (pause, unpause, soft
/// reboot). ``NodeAgentClient`` reaches every node's agent over its HTTPS endpoint; tests may plug in
/// another.
public protocol NodeStreams: Sendable {
    /// Opens the stream of launcher pod `namespace/pod` on `node`.
    func openStream(_ stream: GuestStream, node: String, namespace: String, pod: String) async throws -> GuestConnection
    /// Runs `command` in the pod's container to completion and returns what it printed and its exit code.
    func exec(node: String, namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> ExecOutcome
    /// Has the agent of `node` carry out `verb` (`pause`, `unpause`, `softreboot`) on VMI `namespace/name`;
    /// returns once it took effect.
    func carryOut(_ verb: String, node: String, namespace: String, name: String) async throws
}

/// An open guest stream: a connection that carries the guest's bytes both ways.
public struct GuestConnection: Sendable {
    public var channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    public init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
    }
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
