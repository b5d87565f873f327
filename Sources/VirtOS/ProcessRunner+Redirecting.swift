import Foundation
import VirtError
#if canImport(Glibc)
import Glibc
#endif

extension ProcessRunner: RedirectingCommandRunner {
    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, streams: StandardStreams) async throws -> Int32 {
        let path = executable.hasPrefix("/") ? executable : try Self.lookup(executable)
        let input = try Self.open(streams.input ?? "/dev/null", flags: O_RDONLY)
        let output = try Self.open(streams.output, flags: O_WRONLY | O_APPEND | O_CREAT)
        let error = streams.error == streams.output ? output : try Self.open(streams.error, flags: O_WRONLY | O_APPEND | O_CREAT)
        return try await withCheckedThrowingContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            if let environment { process.environment = environment }
            // Foundation dup2()s these onto 0, 1 and 2 in the child and closes every other descriptor.
            process.standardInput = input
            process.standardOutput = output
            process.standardError = error
            process.terminationHandler = { process in
                let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
                continuation.resume(returning: code)
            }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: VirtError(.internal, "cannot start \(path): \(error)"))
            }
            // Our copies close when the handles are released; the child has its own.
        }
    }

    /// Opens a file as a handle that closes itself; `O_CLOEXEC` keeps it out of programs other threads start.
    private static func open(_ path: String, flags: Int32) throws -> FileHandle {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw VirtError(.internal, "cannot open \(path) for a program's standard streams: \(String(cString: strerror(errno)))")
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
