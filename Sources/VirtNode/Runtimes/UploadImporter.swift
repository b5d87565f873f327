import Foundation
import VirtError
import VirtOS
#if canImport(Glibc)
import Glibc
#endif

/// What fills a volume from an upload: a program that reads the image on a pipe (``UploadImporterProcess``
/// runs `swiftvirt-importer --file -`; unit tests fake it).
public protocol UploadImporter: Sendable {
    /// Starts an import of what will be written to the returned upload's descriptor into `target`.
    func start(target: String, size: Int64, logPath: String) throws(VirtError) -> RunningUpload
}

/// An import that reads an upload: the write end of its standard input, and how it ends.
public final class RunningUpload: Sendable {
    /// The write end of the importer's standard input; whoever writes the image owns it and closes it.
    public let descriptor: Int32
    let pid: pid_t?
    private let exit: @Sendable () async -> Int32
    let logPath: String
    /// Kills what `pid` only runs (the importer inside a sandbox, when `pid` is runc).
    private let killInside: (@Sendable () -> Void)?

    public init(descriptor: Int32, pid: pid_t?, logPath: String, killInside: (@Sendable () -> Void)? = nil,
                exit: @escaping @Sendable () async -> Int32) {
        self.descriptor = descriptor
        self.pid = pid
        self.logPath = logPath
        self.killInside = killInside
        self.exit = exit
    }

    /// Stops the import at once (the upload was cut off: what it read must not become a disk).
    public func kill() {
        killInside?()
        if let pid { Glibc.kill(pid, SIGKILL) }
    }

    /// How the import ended, from its exit status and its log (as for http imports).
    public func outcome() async -> VolumeImportOutcome {
        let code = await exit()
        if code == 0 { return .succeeded }
        let (reason, message) = ImporterProcess.failure(inLog: logPath, exitCode: code)
        return .failed(reason: reason, message: message, retryable: true)
    }
}

/// Runs `swiftvirt-importer --file -` with a pipe as its standard input and its standard error in the log,
/// in its own runc sandbox (``ImporterSandbox``) or, without one, as a plain child of the agent.
public struct UploadImporterProcess: UploadImporter {
    public var executable: String
    /// The sandbox each upload's import runs in; nil runs the importer as a plain child.
    public var sandbox: ImporterSandbox?

    public init(executable: String = ImporterProcess.besideThisProgram(), sandbox: ImporterSandbox? = nil) {
        self.executable = executable
        self.sandbox = sandbox
    }

    public static func arguments(target: String, size: Int64) -> [String] {
        ["--target", target, "--size", String(size), "--progress", "--file", "-"]
    }

    public func start(target: String, size: Int64, logPath: String) throws(VirtError) -> RunningUpload {
        try? FileManager.default.removeItem(atPath: logPath)
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0, fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0 else { throw VirtError(.internal, "cannot make a pipe for the upload: \(String(cString: strerror(errno)))") }
        let output = open("/dev/null", O_WRONLY | O_CLOEXEC)
        let error = open(logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        defer {
            close(ends[0])
            if output >= 0 { close(output) }
            if error >= 0 { close(error) }
        }
        guard output >= 0, error >= 0 else {
            close(ends[1])
            throw VirtError(.internal, "cannot open the upload's log \(logPath): \(String(cString: strerror(errno)))")
        }
        var path = executable.hasPrefix("/") ? executable : ((try? ProcessRunner.lookup(executable)) ?? executable)
        var arguments = Self.arguments(target: target, size: size)
        var prepared: ImporterSandbox.Prepared?
        if let sandbox {
            do {
                let ready = try sandbox.prepare(executable: path, arguments: arguments, environment: [], target: target, readOnly: [])
                prepared = ready
                path = ready.command[0].hasPrefix("/") ? ready.command[0] : ((try? ProcessRunner.lookup(ready.command[0])) ?? ready.command[0])
                arguments = Array(ready.command.dropFirst())
            } catch {
                close(ends[1])
                throw VirtError(.internal, "cannot make the upload's sandbox: \(error)")
            }
        }
        let inside = prepared
        let killInside: (@Sendable () -> Void)?
        if let inside { killInside = { ImporterSandbox.kill(inside) } } else { killInside = nil }
        switch ChildSpawn.spawn(path, arguments, input: ends[0], output: output, error: error) {
        case .success(let pid):
            return RunningUpload(descriptor: ends[1], pid: pid, logPath: logPath, killInside: killInside) { [sandbox] in
                let code = await withCheckedContinuation { continuation in
                    Thread.detachNewThread {
                        var status: Int32 = 0
                        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                        let signal = status & 0x7f
                        continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
                    }
                }
                if let inside, let sandbox { await sandbox.remove(inside) }
                return code
            }
        case .failure(let failure):
            close(ends[1])
            throw VirtError(.internal, "cannot start \(path): \(String(cString: strerror(failure.code.rawValue)))")
        }
    }
}
