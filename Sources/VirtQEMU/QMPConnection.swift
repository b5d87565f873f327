import Foundation
import NIOCore
import NIOPosix
import Synchronization
import VirtAPI

/// The wire side of `QMPClient`: one socket, read by a channel on a shared event loop (no thread per
/// VM: every monitor of the process shares the loops of `MultiThreadedEventLoopGroup.singleton`), which
/// splits QEMU's output into JSON messages, and the table of commands waiting for their answers.
///
/// Commands carry an `id`; an answer resumes the waiter with that id. Events go to the event stream.
/// When the socket ends, every waiter fails with `QMPError.disconnected` and the stream finishes.
final class QMPConnection: Sendable {
    /// The key the greeting's waiter is filed under (command ids are `swiftvirt-<n>`).
    static let greetingKey = "greeting"

    struct State {
        var waiters: [String: CheckedContinuation<JSONValue, any Error>] = [:]
        /// Ids handed out whose waiter is not filed yet.
        var unfiled: Set<String> = [QMPConnection.greetingKey]
        /// Ids whose caller was cancelled before its waiter was filed.
        var cancelled: Set<String> = []
        /// The greeting when it arrived before anyone waited for it.
        var greeting: JSONValue?
        var nextID = 1
        /// Set once the connection is over; later commands fail with it at once.
        var closed: QMPError?
    }

    let socket: UnixSocket
    private let state = Mutex(State())
    private let events: AsyncStream<QMPEvent>.Continuation

    init(socket: UnixSocket, events: AsyncStream<QMPEvent>.Continuation) {
        self.socket = socket
        self.events = events
    }

    var isClosed: Bool { state.withLock { $0.closed != nil } }

    /// Starts reading on an event loop; it reads until the socket ends.
    func start() {
        do {
            let descriptor = try socket.duplicate()
            let reader = LineReader(connection: self)
            ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in channel.pipeline.addHandler(reader) }
                .withConnectedSocket(descriptor)
                .whenFailure { [self] _ in
                    close(descriptor)
                    ended()
                }
        } catch {
            ended()
        }
    }

    /// Ends the connection: the reader sees end of file and fails every waiter.
    func shutdown() {
        socket.shutdown()
    }

    // MARK: - Waiting for answers

    /// Waits for the greeting, which QEMU sends as soon as it serves the connection.
    func greeting() async throws -> JSONValue {
        try await wait(for: Self.greetingKey, sending: nil)
    }

    /// Sends one command and waits for its answer.
    func execute(_ command: String, arguments: JSONValue?) async throws -> JSONValue {
        let id = state.withLock { state in
            let id = "swiftvirt-\(state.nextID)"
            state.nextID += 1
            state.unfiled.insert(id)
            return id
        }
        var message: [String: JSONValue] = ["execute": .string(command), "id": .string(id)]
        if let arguments { message["arguments"] = arguments }
        do {
            return try await wait(for: id, sending: Array((JSONValue.object(message).serialized() + "\n").utf8))
        } catch QMPError.commandFailed(_, let errorClass, let description) {
            throw QMPError.commandFailed(command: command, errorClass: errorClass, description: description)
        }
    }

    private func wait(for key: String, sending bytes: [UInt8]?) async throws -> JSONValue {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                enum Early { case value(JSONValue), failure(any Error) }
                let early: Early? = state.withLock { state in
                    state.unfiled.remove(key)
                    if state.cancelled.remove(key) != nil { return .failure(CancellationError()) }
                    if key == Self.greetingKey, let greeting = state.greeting { return .value(greeting) }
                    if let closed = state.closed { return .failure(closed) }
                    state.waiters[key] = continuation
                    return nil
                }
                switch early {
                case .value(let value)?: continuation.resume(returning: value)
                case .failure(let error)?: continuation.resume(throwing: error)
                case nil:
                    guard let bytes else { return }
                    do {
                        try socket.write(bytes)
                    } catch {
                        // The reader fails the waiter with `disconnected` when it sees the end; if it
                        // already has, nothing is left to resume here.
                        socket.shutdown()
                    }
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                if let waiter = state.waiters.removeValue(forKey: key) { return Optional(waiter) }
                // Not filed yet: the filing sees the mark and fails at once. Already answered: nothing to do.
                if state.unfiled.contains(key) { state.cancelled.insert(key) }
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    // MARK: - Reading

    /// Splits what QEMU sends into lines and hands each to the connection, on the channel's event loop.
    final class LineReader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        let connection: QMPConnection
        /// The unfinished line; touched only on the channel's event loop.
        private let pending = Mutex<[UInt8]>([])

        init(connection: QMPConnection) { self.connection = connection }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let tooLong = pending.withLock { line -> Bool in
                buffer.withUnsafeReadableBytes { bytes in
                    var start = 0
                    for i in 0..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
                        line.append(contentsOf: bytes[start..<i])
                        connection.handle(line)
                        line.removeAll(keepingCapacity: true)
                        start = i + 1
                    }
                    line.append(contentsOf: bytes[start..<bytes.count])
                }
                return line.count > QMPConnection.maximumMessageBytes
            }
            if tooLong {
                connection.fail(all: .malformedMessage("a message longer than 64 MiB"))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            connection.ended()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// The longest message QEMU may send before the connection is given up.
    static let maximumMessageBytes = 64 << 20

    /// The socket ended: every waiter fails, the event stream finishes.
    func ended() {
        fail(all: .disconnected(path: socket.path))
        events.finish()
    }

    func handle(_ line: [UInt8]) {
        var bytes = line[...]
        while let last = bytes.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        if bytes.isEmpty { return }
        guard let message = try? JSONValue.parse(bytes), message.objectValue != nil else {
            let text = String(decoding: bytes, as: UTF8.self)
            if state.withLock({ $0.waiters[Self.greetingKey] != nil }) {
                resume(Self.greetingKey, with: .failure(QMPError.notQMP(path: socket.path, received: text)))
            }
            return
        }
        if let greeting = message["QMP"] {
            let waiter = state.withLock { state in
                if let waiter = state.waiters.removeValue(forKey: Self.greetingKey) { return Optional(waiter) }
                state.greeting = greeting
                return nil
            }
            waiter?.resume(returning: greeting)
            return
        }
        if let name = message["event"]?.stringValue {
            let seconds = message[path: ["timestamp", "seconds"]]?.doubleValue ?? 0
            let micros = message[path: ["timestamp", "microseconds"]]?.doubleValue ?? 0
            events.yield(QMPEvent(name: name, data: message["data"] ?? .object([:]), timestamp: seconds + micros / 1_000_000))
            return
        }
        guard let id = message["id"]?.stringValue else {
            // An answer without our id (QEMU could not even parse a command): nobody to give it to.
            return
        }
        if let value = message["return"] {
            resume(id, with: .success(value))
        } else if let error = message["error"] {
            resume(id, with: .failure(QMPError.commandFailed(
                command: id,
                errorClass: error["class"]?.stringValue ?? "GenericError",
                description: error["desc"]?.stringValue ?? error.serialized())))
        } else {
            resume(id, with: .failure(QMPError.malformedMessage(message.serialized())))
        }
    }

    private func resume(_ key: String, with result: Result<JSONValue, any Error>) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
        waiter?.resume(with: result)
    }

    func fail(all error: QMPError) {
        let waiters = state.withLock { state in
            if state.closed == nil { state.closed = error }
            let waiters = state.waiters
            state.waiters.removeAll()
            return waiters
        }
        for waiter in waiters.values { waiter.resume(throwing: error) }
    }
}
