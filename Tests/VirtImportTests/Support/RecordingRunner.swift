import Foundation
import VirtOS

/// A `CommandRunner` that records every command line and runs it for real.
final class RecordingRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    private let forward: any CommandRunner

    init(forwardingTo runner: any CommandRunner = ProcessRunner()) { forward = runner }

    var commandLines: [String] { lock.withLock { recorded } }

    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult {
        lock.withLock { recorded.append(([executable] + arguments).joined(separator: " ")) }
        return try await forward.run(executable, arguments, environment: environment, input: input)
    }
}
