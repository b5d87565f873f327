import Foundation
import VirtOS

/// A `CommandRunner` that records every command line and answers from a script, for exact-command-line
/// tests. Unscripted commands succeed with empty output.
final class RecordingRunner: CommandRunner, @unchecked Sendable {
    struct Call: Equatable, CustomStringConvertible {
        var executable: String
        var arguments: [String]
        var description: String { ([executable] + arguments).joined(separator: " ") }
    }

    private let lock = NSLock()
    private var recorded: [Call] = []
    private let respond: @Sendable (Call) -> CommandResult
    private let forward: (any CommandRunner)?

    init(respond: @escaping @Sendable (Call) -> CommandResult = { _ in CommandResult(exitCode: 0) }) {
        self.respond = respond
        self.forward = nil
    }

    /// Records and runs the commands for real with `runner`.
    init(forwardingTo runner: any CommandRunner) {
        self.respond = { _ in CommandResult(exitCode: 0) }
        self.forward = runner
    }

    var calls: [Call] { lock.withLock { recorded } }
    var commandLines: [String] { calls.map(\.description) }

    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult {
        let call = Call(executable: executable, arguments: arguments)
        lock.withLock { recorded.append(call) }
        if let forward { return try await forward.run(executable, arguments, environment: environment, input: input) }
        return respond(call)
    }
}
