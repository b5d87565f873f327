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

/// The real runner: `Foundation.Process`, output collected in full.
public struct ProcessRunner: CommandRunner {
    public init() {}

    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: [UInt8]? = nil) async throws -> CommandResult {
        let path = executable.hasPrefix("/") ? executable : try Self.lookup(executable)
        return try await withCheckedThrowingContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            if let environment { process.environment = environment }
            let out = Pipe(), err = Pipe(), inPipe = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
            let collected = OutputCollector()
            out.fileHandleForReading.readabilityHandler = { handle in collected.appendOut(handle.availableData) }
            err.fileHandleForReading.readabilityHandler = { handle in collected.appendErr(handle.availableData) }
            process.terminationHandler = { process in
                out.fileHandleForReading.readabilityHandler = nil
                err.fileHandleForReading.readabilityHandler = nil
                collected.appendOut(out.fileHandleForReading.readDataToEndOfFile())
                collected.appendErr(err.fileHandleForReading.readDataToEndOfFile())
                let (o, e) = collected.take()
                continuation.resume(returning: CommandResult(exitCode: process.terminationStatus, stdout: o, stderr: e))
            }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: VirtError(.internal, "cannot start \(path): \(error)"))
                return
            }
            if let input {
                inPipe.fileHandleForWriting.write(Data(input))
                try? inPipe.fileHandleForWriting.close()
            }
        }
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

/// Output gathered from two pipes on other threads.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out: [UInt8] = []
    private var err: [UInt8] = []

    func appendOut(_ data: Data) { lock.withLock { out.append(contentsOf: data) } }
    func appendErr(_ data: Data) { lock.withLock { err.append(contentsOf: data) } }
    func take() -> ([UInt8], [UInt8]) { lock.withLock { (out, err) } }
}
