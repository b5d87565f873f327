import Foundation
import Synchronization
import Testing
import VirtError

@testable import VirtQEMU

/// A scratch directory under /tmp with a short path (unix socket paths must stay under 108 bytes),
/// removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/svq-XXXXXX".utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            return mkdtemp(base).map { String(cString: $0) }
        }
        guard let made else { throw VirtError(.internal, "mkdtemp failed: errno \(errno)") }
        path = made
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// One QEMU process started by a test. `stop()` ends it by its PID (SIGTERM, then SIGKILL) and reaps it;
/// nothing else is ever signalled.
final class QEMUProcess: Sendable {
    let process: Process
    let logPath: String
    /// When `launch` called exec.
    let started: ContinuousClock.Instant

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    private init(process: Process, logPath: String, started: ContinuousClock.Instant) {
        self.process = process
        self.logPath = logPath
        self.started = started
    }

    /// Starts `command`, with QEMU's stdout and stderr going to `logPath`.
    static func launch(_ command: QEMUCommand, logPath: String) throws -> QEMUProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executablePath(command.executable))
        process.arguments = command.arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        try? log.close()
        return QEMUProcess(process: process, logPath: logPath, started: started)
    }

    static func executablePath(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw VirtError(.notFound, "\(name) is not installed: apt-get install qemu-system-x86 qemu-utils")
    }

    /// QEMU's output so far.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Waits up to `timeout` for QEMU to exit by itself.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return true
    }

    /// Ends QEMU: SIGTERM, SIGKILL after two seconds, then reaps it.
    func stop() async {
        guard process.isRunning else {
            process.waitUntilExit()
            return
        }
        kill(pid, SIGTERM)
        if await waitForExit(timeout: .seconds(2)) { return }
        kill(pid, SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }
}

/// Collects what a unix socket sends (QEMU's serial console) on a thread of its own.
final class SocketCollector: Sendable {
    private let socket: UnixSocket
    private let received = Mutex<[UInt8]>([])

    /// Connects to `path`, retrying while QEMU has not created it yet.
    init(path: String, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var connected: UnixSocket?
        while connected == nil {
            let failure: SocketError
            do {
                connected = try UnixSocket.connect(path: path)
                continue
            } catch {
                failure = error
            }
            if !failure.isNotListening || ContinuousClock.now >= deadline { throw failure }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard let connected else { throw CancellationError() }
        socket = connected
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while let count = try? socket.read(into: &buffer), count > 0 {
                received.withLock { $0.append(contentsOf: buffer[0..<count]) }
            }
        }
        thread.name = "serial-reader"
        thread.start()
    }

    var text: String { received.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Waits until the text received so far satisfies `condition`.
    func wait(timeout: Duration, until condition: (String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(text) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition(text)
    }

    func close() { socket.shutdown() }
}

/// The project's test guest (guest/build.sh).
enum TestGuest {
    static let directory = ProcessInfo.processInfo.environment["SWIFTVIRT_GUEST_DIR"] ?? "/var/lib/swiftvirt/guest"
    static var kernel: String { "\(directory)/vmlinuz" }
    static var initrd: String { "\(directory)/initrd.img" }

    /// Fails the test with what to do when the guest is not built.
    static func require() throws {
        for file in [kernel, initrd] where !FileManager.default.fileExists(atPath: file) {
            throw VirtError(.notFound, "the test guest is missing (\(file)); build it with guest/build.sh (as root)")
        }
    }
}
