import Foundation
import Synchronization
import VirtOS

/// A fake runner that records every command line and answers from a script.
final class RecordingRunner: RedirectingCommandRunner {
    struct Call: Equatable {
        var executable: String
        var arguments: [String]
        var streams: StandardStreams?
    }

    /// Answers a call; the default succeeds with no output.
    typealias Script = @Sendable (Call) throws -> CommandResult

    private let calls = Mutex<[Call]>([])
    private let script: Script

    init(script: @escaping Script = { _ in CommandResult(exitCode: 0) }) {
        self.script = script
    }

    var recorded: [Call] { calls.withLock { $0 } }

    /// The recorded command lines, each joined with spaces.
    var commandLines: [String] { recorded.map { ([$0.executable] + $0.arguments).joined(separator: " ") } }

    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult {
        let call = Call(executable: executable, arguments: arguments, streams: nil)
        calls.withLock { $0.append(call) }
        return try script(call)
    }

    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, streams: StandardStreams) async throws -> Int32 {
        let call = Call(executable: executable, arguments: arguments, streams: streams)
        calls.withLock { $0.append(call) }
        let result = try script(call)
        // What runc would print goes where the streams point.
        if !result.stderr.isEmpty, let handle = FileHandle(forWritingAtPath: streams.error) {
            handle.seekToEndOfFile()
            handle.write(Data(result.stderr))
            try? handle.close()
        }
        return result.exitCode
    }
}

/// runc's error line as logrus prints it.
func runcErrorLine(_ message: String) -> [UInt8] {
    Array("time=\"2026-01-01T00:00:00Z\" level=error msg=\"\(message)\"\n".utf8)
}
