import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtError

@testable import VirtQEMU

/// `QMPClient` against the real QEMU under TCG: no disk, no guest code runs (`-S`).
@Suite(.serialized) struct QMPClientTests {
    /// The smallest QEMU that serves QMP, paused before the first instruction.
    static func bareQEMU(_ scratch: ScratchDirectory) -> QEMUCommand {
        QEMUCommand(executable: "qemu-system-x86_64", arguments: [
            "-machine", "q35,accel=tcg", "-m", "64", "-nodefaults", "-display", "none",
            "-qmp", "unix:\(scratch.file("qmp.sock")),server=on,wait=off", "-S",
        ])
    }

    /// Runs `body` with a bare QEMU and a connected client; QEMU is always stopped afterwards.
    func withQEMU(_ body: (QMPClient, QEMUProcess, ScratchDirectory) async throws -> Void) async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let qemu = try QEMUProcess.launch(Self.bareQEMU(scratch), logPath: scratch.file("qemu.log"))
        do {
            let client = try await QMPClient.connect(to: scratch.file("qmp.sock"), timeout: .seconds(20))
            try await body(client, qemu, scratch)
            client.close()
        } catch {
            await qemu.stop()
            Issue.record("QEMU log:\n\(qemu.log)")
            throw error
        }
        await qemu.stop()
    }

    @Test func lifecycle() async throws {
        try await withQEMU { client, qemu, _ in
            #expect(client.greeting.major >= 7, "greeting: \(client.greeting)")
            #expect(client.isConnected)

            let events = EventRecorder(client.events)

            var status = try await client.queryStatus()
            #expect(status.running == false)
            #expect(status.status == "prelaunch")

            try await client.cont()
            status = try await client.queryStatus()
            #expect(status.running)
            #expect(status.status == "running")
            #expect(await events.wait(for: "RESUME"))

            try await client.stop()
            status = try await client.queryStatus()
            #expect(!status.running)
            #expect(status.status == "paused")
            let stop = await events.first("STOP")
            #expect(stop.map { $0.timestamp > 1_600_000_000 } == true)

            try await client.systemReset()
            #expect(await events.wait(for: "RESET"))

            try await client.quit()
            #expect(await qemu.waitForExit(timeout: .seconds(10)), "QEMU still runs after quit")
            #expect(await events.wait(for: "SHUTDOWN"))
            #expect(await events.finished(), "the event stream did not finish when QEMU closed the connection")
            #expect(!client.isConnected)

            // Later commands fail at once and say why.
            let error = await failure { _ = try await client.queryStatus() }
            #expect(error?.code == .serviceUnavailable)
            #expect(error?.cause as? QMPError == .disconnected(path: client.socketPath))
            #expect(error?.message.contains("QEMU exited") == true)
        }
    }

    @Test func commandErrors() async throws {
        try await withQEMU { client, _, _ in
            let unknown = await failure { try await client.execute("no-such-command") }
            #expect(unknown?.code == .unsupported)
            if case .commandFailed(let command, let errorClass, _)? = unknown?.cause as? QMPError {
                #expect(command == "no-such-command")
                #expect(errorClass == "CommandNotFound")
            } else {
                Issue.record("unexpected cause \(String(describing: unknown?.cause))")
            }
            let missing = await failure { try await client.execute("device_del", arguments: ["id": "nothing-here"]) }
            #expect(missing?.code == .notFound || missing?.code == .invalidState, "\(String(describing: missing))")
            #expect(missing?.message.contains("device_del") == true)
            // The session still works after errors.
            let status = try await client.queryStatus()
            #expect(status.status == "prelaunch")
        }
    }

    @Test func argumentsAndConcurrentCommands() async throws {
        try await withQEMU { client, _, _ in
            let type = try await client.execute("qom-get", arguments: ["path": "/machine", "property": "type"])
            #expect(type.stringValue?.contains("q35") == true, "\(type)")
            // Many commands in flight at once: each answer finds its caller.
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<32 {
                    group.addTask {
                        if i % 2 == 0 {
                            return (i, try await client.queryStatus().status)
                        }
                        let name = try await client.execute("query-name")
                        return (i, name["name"]?.stringValue ?? "unnamed")
                    }
                }
                var seen = 0
                for try await (i, answer) in group {
                    #expect(answer == (i % 2 == 0 ? "prelaunch" : "unnamed"))
                    seen += 1
                }
                #expect(seen == 32)
            }
        }
    }

    @Test func timeoutAndCancellationWhileQEMUDoesNotAnswer() async throws {
        try await withQEMU { client, qemu, _ in
            // A stopped (SIGSTOP) QEMU answers nothing: like a main loop stuck on storage.
            kill(qemu.pid, SIGSTOP)
            let started = ContinuousClock.now
            let timedOut = await failure { try await client.execute("query-status", timeout: .milliseconds(200)) }
            #expect(timedOut?.code == .timeout)
            if case .timedOut(let command, _)? = timedOut?.cause as? QMPError {
                #expect(command == "query-status")
            } else {
                Issue.record("unexpected \(String(describing: timedOut))")
            }
            // Not a speed check: the call ended by its own 200 ms timeout, not by hanging.
            #expect(ContinuousClock.now - started < .seconds(30))

            let waiting = Task { try await client.queryStatus() }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            let cancelled = await failure { _ = try await waiting.value }
            #expect(cancelled != nil)

            // Once QEMU runs again the late answers are dropped and the session goes on.
            kill(qemu.pid, SIGCONT)
            let status = try await client.queryStatus()
            #expect(status.status == "prelaunch")
        }
    }

    @Test func connectTimesOutWhenNobodyListens() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let started = ContinuousClock.now
        let error = await failure { _ = try await QMPClient.connect(to: scratch.file("absent.sock"), timeout: .milliseconds(300)) }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("absent.sock") == true)
        #expect(error?.message.contains("check that QEMU is running") == true)
        let elapsed = ContinuousClock.now - started
        // It waited out its timeout and then gave up (the bound only tells a give-up from a hang).
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(30))
    }

    @Test func connectWaitsForQEMUToCreateTheSocket() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // Connect first, start QEMU a little later: the client retries until QEMU listens.
        async let connecting = QMPClient.connect(to: scratch.file("qmp.sock"), timeout: .seconds(20))
        try await Task.sleep(for: .milliseconds(300))
        let qemu = try QEMUProcess.launch(Self.bareQEMU(scratch), logPath: scratch.file("qemu.log"))
        do {
            let client = try await connecting
            #expect(try await client.queryStatus().status == "prelaunch")
            try await client.quit()
            #expect(await qemu.waitForExit(timeout: .seconds(10)))
        } catch {
            await qemu.stop()
            throw error
        }
        await qemu.stop()
    }

    @Test func socketPathTooLong() async throws {
        let path = "/tmp/" + String(repeating: "x", count: 200)
        let error = await failure { _ = try await QMPClient.connect(to: path, timeout: .milliseconds(10)) }
        guard case .socketPathTooLong? = error?.cause as? QMPError else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    @Test func serialSocketIsNotQMP() async throws {
        // QEMU's serial socket accepts the connection but never greets: the client gives up in time and
        // says what may be wrong.
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var command = Self.bareQEMU(scratch)
        command.arguments += ["-chardev", "socket,id=s0,path=\(scratch.file("serial.sock")),server=on,wait=off", "-serial", "chardev:s0"]
        let qemu = try QEMUProcess.launch(command, logPath: scratch.file("qemu.log"))
        let error = await failure {
            // QMP answering means QEMU has created its sockets.
            try await QMPClient.connect(to: scratch.file("qmp.sock"), timeout: .seconds(20)).close()
            _ = try await QMPClient.connect(to: scratch.file("serial.sock"), timeout: .milliseconds(500))
        }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("did not start the session") == true, "\(String(describing: error))")
        await qemu.stop()
    }
}

/// The `VirtError` that `body` throws; records an issue when it succeeds (unless told not to) or throws
/// something else.
func failure(expectingFailure: Bool = true, _ body: () async throws -> Void) async -> VirtError? {
    do {
        try await body()
        if expectingFailure { Issue.record("expected an error, but it succeeded") }
        return nil
    } catch let error as VirtError {
        return error
    } catch {
        Issue.record("expected a VirtError, got \(error)")
        return nil
    }
}

/// Collects a client's events on a task of its own so tests can wait for one by name.
final class EventRecorder: Sendable {
    private final class Box: Sendable {
        let state = Mutex<(events: [QMPEvent], finished: Bool)>(([], false))
    }

    private let box = Box()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<QMPEvent>) {
        let box = self.box
        task = Task {
            for await event in stream { box.state.withLock { $0.events.append(event) } }
            box.state.withLock { $0.finished = true }
        }
    }

    deinit { task.cancel() }

    var events: [QMPEvent] { box.state.withLock { $0.events } }

    func first(_ name: String, timeout: Duration = .seconds(10)) async -> QMPEvent? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let event = events.first(where: { $0.name == name }) { return event }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return events.first { $0.name == name }
    }

    func wait(for name: String, timeout: Duration = .seconds(10)) async -> Bool {
        await first(name, timeout: timeout) != nil
    }

    func finished(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if box.state.withLock({ $0.finished }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
