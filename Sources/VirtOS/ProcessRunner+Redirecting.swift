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

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on 0, 1 and 2 (also when the descriptor already is one of them).
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, error, 2)
        // Descriptors other threads opened without close-on-exec must not leak into the child.
        closeFrom3(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envpBuffer in
                guard let argvBase = argvBuffer.baseAddress, let envpBase = envpBuffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, path, &actions, &attributes, argvBase, envpBase)
            }
        }
        guard result == 0 else {
            throw VirtError(.internal, "cannot start \(path): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Closes every descriptor from 3 up in the child: glibc's `posix_spawn_file_actions_addclosefrom_np`
    /// (2.34+; Swift does not import it, so it is looked up), else one close action per open descriptor.
    private static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"),
           unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3) == 0 {
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }
}
