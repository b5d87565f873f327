import VirtAPI
import VirtError

/// A QMP session with one QEMU process over its unix socket.
///
/// `connect` retries until QEMU listens (QEMU creates the socket a few milliseconds after exec), reads
/// the greeting and leaves capabilities negotiation mode. Commands may be sent from any task at the
/// same time; each answer is matched to its command by `id`. Events arrive on `events`.
///
/// QEMU serves one QMP session per socket at a time. Close the client (or drop it) to free it.
/// Every failure is a `VirtError` whose `cause` is a `QMPError`.
public final class QMPClient: Sendable {
    /// The QMP socket this client is connected to.
    public let socketPath: String
    /// What QEMU said when the session started.
    public let greeting: QMPGreeting
    /// QMP events in the order QEMU sent them; finishes when the connection ends. Meant for one
    /// consumer; the newest 1024 unread events are kept.
    public let events: AsyncStream<QMPEvent>

    private let connection: QMPConnection

    private init(socketPath: String, greeting: QMPGreeting, events: AsyncStream<QMPEvent>, connection: QMPConnection) {
        self.socketPath = socketPath
        self.greeting = greeting
        self.events = events
        self.connection = connection
    }

    deinit {
        connection.shutdown()
    }

    /// Connects to the QMP socket at `path`, retrying until `timeout` has passed while nobody listens
    /// there yet, then negotiates the session (greeting, `qmp_capabilities`) within the same time.
    public static func connect(to path: String, timeout: Duration = .seconds(10)) async throws(VirtError) -> QMPClient {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        guard !path.isEmpty, path.utf8.count <= UnixSocket.maxPathLength else {
            throw QMPError.socketPathTooLong(path: path, limit: UnixSocket.maxPathLength).virtError
        }
        let socket: UnixSocket
        while true {
            do {
                socket = try UnixSocket.connect(path: path)
                break
            } catch {
                guard error.isNotListening else {
                    throw QMPError.connectFailed(path: path, reason: error.description).virtError
                }
                if clock.now >= deadline {
                    throw QMPError.connectTimedOut(path: path, seconds: seconds(clock.now - started), lastError: error.description).virtError
                }
                // QEMU listens a few tens of milliseconds after exec: poll closely at first, since every
                // millisecond here is VM start latency; a failed connect costs microseconds.
                let delay: Duration = clock.now - started < .seconds(1) ? .milliseconds(2) : .milliseconds(20)
                do {
                    try await Task.sleep(for: min(delay, deadline - clock.now))
                } catch {
                    throw VirtError(.timeout, "connecting to QMP at \(path) was cancelled", cause: error)
                }
            }
        }

        let (events, continuation) = AsyncStream.makeStream(of: QMPEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let connection = QMPConnection(socket: socket, events: continuation)
        connection.start()
        do {
            let greetingValue = try await withDeadline(deadline, command: "the greeting") { try await connection.greeting() }
            let greeting = try parseGreeting(greetingValue, path: path)
            _ = try await withDeadline(deadline, command: "qmp_capabilities") {
                try await connection.execute("qmp_capabilities", arguments: nil)
            }
            return QMPClient(socketPath: path, greeting: greeting, events: events, connection: connection)
        } catch QMPError.timedOut {
            connection.shutdown()
            throw QMPError.connectTimedOut(
                path: path, seconds: seconds(clock.now - started),
                lastError: "connected, but QEMU did not start the session; another client may hold its only QMP session").virtError
        } catch {
            connection.shutdown()
            throw virtError(error)
        }
    }

    /// Whether the connection is still open.
    public var isConnected: Bool { !connection.isClosed }

    /// Runs a QMP command and returns its `return` value. With a `timeout`, gives up (and fails with
    /// `QMPError.timedOut`) when QEMU has not answered by then; the late answer is dropped.
    @discardableResult
    public func execute(_ command: String, arguments: JSONValue? = nil, timeout: Duration? = nil) async throws(VirtError) -> JSONValue {
        do {
            guard let timeout else { return try await connection.execute(command, arguments: arguments) }
            return try await Self.withDeadline(ContinuousClock.now + timeout, command: command) { [connection] in
                try await connection.execute(command, arguments: arguments)
            }
        } catch {
            throw Self.virtError(error)
        }
    }

    /// `query-status`: whether the guest's CPUs run, and QEMU's run state (`running`, `paused`,
    /// `prelaunch`, `inmigrate`, `shutdown`, `guest-panicked`, …).
    public func queryStatus(timeout: Duration? = nil) async throws(VirtError) -> (running: Bool, status: String) {
        let value = try await execute("query-status", timeout: timeout)
        guard let running = value["running"]?.boolValue, let status = value["status"]?.stringValue else {
            throw QMPError.malformedMessage("query-status returned \(value.serialized())").virtError
        }
        return (running, status)
    }

    /// Pauses the guest's CPUs.
    public func stop(timeout: Duration? = nil) async throws(VirtError) { try await execute("stop", timeout: timeout) }

    /// Resumes the guest's CPUs (also starts a guest launched with `-S`).
    public func cont(timeout: Duration? = nil) async throws(VirtError) { try await execute("cont", timeout: timeout) }

    /// Presses the ACPI power button; the guest decides whether and when to power off.
    public func systemPowerdown(timeout: Duration? = nil) async throws(VirtError) { try await execute("system_powerdown", timeout: timeout) }

    /// Presses a key combination (QEMU `qcode` names, e.g. `["ctrl", "alt", "delete"]`).
    public func sendKeys(_ keys: [String], timeout: Duration? = nil) async throws(VirtError) {
        let list = keys.map { JSONValue.object(["type": "qcode", "data": .string($0)]) }
        try await execute("send-key", arguments: ["keys": .array(list)], timeout: timeout)
    }

    /// Resets the machine, like a hardware reset button.
    public func systemReset() async throws(VirtError) { try await execute("system_reset") }

    /// Ends QEMU at once (the guest is not asked). QEMU may close the connection before its answer
    /// arrives; that counts as done.
    public func quit() async throws(VirtError) {
        do {
            try await execute("quit")
        } catch let error where (error.cause as? QMPError).map({ if case .disconnected = $0 { true } else { false } }) == true {
            return
        }
    }

    /// Closes the session. Commands still waiting fail with `QMPError.disconnected`; `events` finishes.
    public func close() {
        connection.shutdown()
    }

    // MARK: - Helpers

    static func parseGreeting(_ value: JSONValue, path: String) throws -> QMPGreeting {
        guard let qemu = value[path: ["version", "qemu"]],
            let major = qemu["major"]?.intValue, let minor = qemu["minor"]?.intValue, let micro = qemu["micro"]?.intValue
        else {
            throw QMPError.notQMP(path: path, received: value.serialized())
        }
        return QMPGreeting(
            major: Int(major), minor: Int(minor), micro: Int(micro),
            package: value[path: ["version", "package"]]?.stringValue ?? "",
            capabilities: value["capabilities"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    /// Runs `operation`, failing with `QMPError.timedOut` at `deadline` (and cancelling it).
    static func withDeadline(
        _ deadline: ContinuousClock.Instant, command: String, _ operation: @escaping @Sendable () async throws -> JSONValue
    ) async throws -> JSONValue {
        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            if let value = first { return value }
            throw QMPError.timedOut(command: command, seconds: seconds(ContinuousClock.now - started))
        }
    }

    static func virtError(_ error: any Error) -> VirtError {
        switch error {
        case let error as QMPError: error.virtError
        case let error as VirtError: error
        case let error as CancellationError: VirtError(.timeout, "the QMP command was cancelled", cause: error)
        default: VirtError(.internal, "QMP failed: \(error)")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
