import Foundation
import VirtError
#if canImport(Glibc)
import Glibc
#endif

extension ProcessRunner: RedirectingCommandRunner {
    /// Spawns with `posix_spawn` rather than Foundation's `Process`: a `Process` finished through its
    /// `terminationHandler` is never released on Linux (its run-loop source keeps it), and with it the
    /// file handles given as its streams, so every call would leak descriptors. Here the files are
    /// closed as soon as the child has its copies, and a dedicated thread waits for the child's pid
    /// (only that pid: a subreaper's orphans are left alone).
    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, streams: StandardStreams) async throws -> Int32 {
        let path = executable.hasPrefix("/") ? executable : try Self.lookup(executable)
        let pid = try Self.spawn(path, arguments, environment: environment, streams: streams)
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }

    private static func spawn(_ path: String, _ arguments: [String], environment: [String: String]?, streams: StandardStreams) throws -> pid_t {
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        func open(_ file: String, _ flags: Int32) throws -> Int32 {
            let fd = Glibc.open(file, flags | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw VirtError(.internal, "cannot open \(file) for \(path)'s standard streams: \(String(cString: strerror(errno)))")
            }
            opened.append(fd)
            return fd
        }
        let input = try open(streams.input ?? "/dev/null", O_RDONLY)
        let output = try open(streams.output, O_WRONLY | O_APPEND | O_CREAT)
        let error = streams.error == streams.output ? output : try open(streams.error, O_WRONLY | O_APPEND | O_CREAT)

        switch ChildSpawn.spawn(path, arguments, environment: environment, input: input, output: output, error: error) {
        case .success(let pid):
            return pid
        case .failure(let failure):
            throw VirtError(.internal, "cannot start \(path): \(String(cString: strerror(failure.code.rawValue)))")
        }
    }
}
