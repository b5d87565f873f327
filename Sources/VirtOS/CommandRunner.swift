import Foundation
import VirtError

/// What a finished command left behind.
public struct CommandResult: Sendable {
    public var exitCode: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(exitCode: Int32, stdout: [UInt8] = [], stderr: [UInt8] = []) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs external programs. Wrappers of runc, qemu-img, CNI plugins… take one, so unit tests can
/// record the exact command lines with a fake runner.
public protocol CommandRunner: Sendable {
    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs and fails with a message naming the command and its stderr when the exit code is not 0.
    public func check(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: [UInt8]? = nil) async throws -> CommandResult {
        let result = try await run(executable, arguments, environment: environment, input: input)
        guard result.exitCode == 0 else {
            let detail = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw VirtError(.internal, "\(executable) \(arguments.joined(separator: " ")) failed with exit code \(result.exitCode)\(detail.isEmpty ? "" : ": \(detail)")")
        }
        return result
    }
}

/// The real runner. Output is collected through temporary files and the child is started with
/// `posix_spawn` (see `ProcessRunner+Redirecting.swift`): Foundation's `Process` leaks descriptors on
/// Linux and waits for grandchildren that inherit its pipes.
public struct ProcessRunner: CommandRunner {
    public init() {}

    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: [UInt8]? = nil) async throws -> CommandResult {
        let directory = NSTemporaryDirectory() + "swiftvirt-run-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var streams = StandardStreams(output: directory + "/stdout", error: directory + "/stderr")
        if let input {
            let inputPath = directory + "/stdin"
            FileManager.default.createFile(atPath: inputPath, contents: Data(input))
            streams.input = inputPath
        }
        let code = try await run(executable, arguments, environment: environment, streams: streams)
        let stdout = FileManager.default.contents(atPath: streams.output).map { Array($0) } ?? []
        let stderr = FileManager.default.contents(atPath: streams.error).map { Array($0) } ?? []
        return CommandResult(exitCode: code, stdout: stdout, stderr: stderr)
    }

    /// Finds a program on PATH (plus the sbin directories, where Debian puts system tools).
    public static func lookup(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin:/usr/local/sbin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw VirtError(.notFound, "\(name) is not installed: run 'make deps' (as root) to install SwiftVirt's system packages")
    }
}
