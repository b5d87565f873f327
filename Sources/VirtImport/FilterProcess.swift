import Foundation
import VirtOS
#if canImport(Glibc)
import Glibc
#endif

/// A running filter program with a pipe on each of its standard input and output, its standard error
/// in a file. Started with `posix_spawn`, as `ProcessRunner` starts programs, so no descriptor leaks in.
///
/// Owned by one import: one task writes `input`, one thread reads `output`.
final class FilterProcess: @unchecked Sendable {
    let pid: pid_t
    /// The write end of the program's standard input; `closeInput()` ends its input.
    private(set) var input: Int32
    /// The read end of the program's standard output.
    private(set) var output: Int32
    let stderrPath: String
    let commandLine: String

    private init(pid: pid_t, input: Int32, output: Int32, stderrPath: String, commandLine: String) {
        self.pid = pid
        self.input = input
        self.output = output
        self.stderrPath = stderrPath
        self.commandLine = commandLine
    }

    deinit {
        if input >= 0 { close(input) }
        if output >= 0 { close(output) }
    }

    /// Starts `decompressor` with its standard error appended to `stderrPath`.
    static func start(_ decompressor: Decompressor, stderrPath: String) throws(ImportError) -> FilterProcess {
        // A write to a pipe whose reader is gone must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let path: String
        do {
            path = decompressor.executable.hasPrefix("/") ? decompressor.executable : try ProcessRunner.lookup(decompressor.executable)
        } catch {
            throw .tool("\(decompressor.executable) is not installed: run 'make deps' (as root) to install SwiftVirt's system packages")
        }
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard makePipe(&toChild) else { throw .tool("cannot make a pipe for \(decompressor.name): \(errnoText())") }
        guard makePipe(&fromChild) else {
            close(toChild[0]); close(toChild[1])
            throw .tool("cannot make a pipe for \(decompressor.name): \(errnoText())")
        }
        let errorFD = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer {
            close(toChild[0])
            close(fromChild[1])
            if errorFD >= 0 { close(errorFD) }
        }
        guard errorFD >= 0 else {
            close(toChild[1]); close(fromChild[0])
            throw .io(path: stderrPath, detail: "cannot create: \(errnoText())")
        }
        // The child inherits exactly its three descriptors: the pipes' other ends stay here, closed on exec.
        let pid: pid_t
        switch ChildSpawn.spawn(path, decompressor.arguments, environment: nil, input: toChild[0], output: fromChild[1], error: errorFD) {
        case .success(let started):
            pid = started
        case .failure(let failure):
            close(toChild[1]); close(fromChild[0])
            throw .tool("cannot start \(path): \(String(cString: strerror(failure.code.rawValue)))")
        }
        return FilterProcess(pid: pid, input: toChild[1], output: fromChild[0], stderrPath: stderrPath, commandLine: decompressor.commandLine)
    }

    /// A pipe whose two ends are closed on exec from the start (`pipe2(O_CLOEXEC)`): a program another
    /// thread starts meanwhile must not inherit the write end, or the reader never sees end-of-file.
    /// The child gets its copies through dup2.
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        ends.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            return systemPipe2(base, O_CLOEXEC) == 0
        }
    }

    /// Writes all of `bytes` to the program's input; false when the program no longer reads (EPIPE).
    func write(_ bytes: UnsafeRawBufferPointer) throws(ImportError) -> Bool {
        guard var base = bytes.baseAddress else { return true }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(input, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { return false }
                throw .tool("cannot write to \(commandLine): \(errnoText())")
            }
            remaining -= written
            base += written
        }
        return true
    }

    /// Ends the program's input.
    func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// Stops reading the program's output (it then fails with EPIPE and exits).
    func closeOutput() {
        if output >= 0 { close(output) }
        output = -1
    }

    /// Waits for the program to exit; its exit code, or 128 + the signal that ended it.
    func wait() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }

    /// What the program wrote to its standard error, trimmed.
    var stderrText: String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// glibc's `pipe2`, which Glibc's module map hides behind `_GNU_SOURCE`.
@_silgen_name("pipe2")
private func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
