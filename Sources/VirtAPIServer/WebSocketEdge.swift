import Foundation
import HTTPTypes
import NIOHTTP1
import WSCore
import Logging
import NIOCore
import NIOPosix
import VirtAPI
import VirtError

/// The websocket side of the HTTP edge: decides whether a request upgrades, then carries its stream.
/// Console and VNC bytes pass through unchanged; exec answers over the channel protocol.
struct WebSocketEdge: Sendable {
    let router: APIRouter
    let consoles = ConsoleSessions()

    /// A request upgrades only when it is a GET on a stream path that passes every check; anything else
    /// goes on to the ordinary responder, which answers with a `Status` that says why.
    func decide(_ head: HTTPRequestHead) async -> (HTTPFields, StreamingHTTP1Channel.Session)? {
        guard head.method == .GET else { return nil }
        let (path, query) = Self.split(head.uri)
        guard StreamEndpoint.matches(path.split(separator: "/", omittingEmptySubsequences: true)) else { return nil }
        let offered = head.headers["Sec-WebSocket-Protocol"]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let (stream, subprotocol) = await router.openStream(path: path, query: query, authorization: head.headers.first(name: "Authorization"), offered: offered),
              let streams = router.streams
        else { return nil }
        var headers = HTTPFields()
        if let subprotocol { headers[.secWebSocketProtocol] = subprotocol }
        let consoles = self.consoles
        return (headers, { inbound, outbound in
            switch stream {
            case .guest(let kind, let node, let namespace, let pod):
                let connection = try await streams.openStream(kind, node: node, namespace: namespace, pod: pod)
                try await Self.bridge(connection, session: "\(node)/\(namespace)/\(pod)", exclusive: kind == .console ? consoles : nil,
                                      inbound: inbound, outbound: outbound)
            case .exec(let exec):
                try await Self.exec(exec, v5: subprotocol == StreamEndpoint.execProtocols[0], streams: streams, inbound: inbound, outbound: outbound)
            }
        })
    }

    /// `/path?query` into the path and its decoded query pairs, keeping repeated keys (`command=a&command=b`).
    static func split(_ target: String) -> (String, [(String, String)]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, []) }
        return (String(target[..<mark]), RequestQuery.pairs(String(target[target.index(after: mark)...])))
    }

    // MARK: Console and VNC

    /// Copies bytes both ways between the websocket and the guest's stream until either side ends.
    /// A console admits one client: a new one takes over and the old one is closed.
    static func bridge(_ guest: GuestConnection, session: String, exclusive: ConsoleSessions?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let connection = guest.channel
        await exclusive?.takeOver(session, channel: connection.channel)
        do {
            try await pump(connection, inbound: inbound, outbound: outbound)
        } catch {
            await exclusive?.release(session, channel: connection.channel)
            throw error
        }
        await exclusive?.release(session, channel: connection.channel)
    }

    static func pump(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await connection.executeThenClose { fromGuest, toGuest in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await bytes in fromGuest {
                        try await outbound.write(.binary(bytes))
                    }
                }
                group.addTask {
                    for try await frame in inbound {
                        try await toGuest.write(frame.data)
                    }
                }
                // Whichever side ends first ends the session.
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }

    // MARK: Exec

    /// Channel numbers of the Kubernetes streaming protocol.
    enum Channel: UInt8 {
        case stdin = 0, stdout = 1, stderr = 2, error = 3, resize = 4, close = 255
    }

    /// Runs the command, sends its output on the stdout and stderr channels and its result as a `Status` on
    /// the error channel, which is how kubectl learns the exit code.
    static func exec(_ request: StreamEndpoint.ExecRequest, v5: Bool, streams: any NodeStreams,
                     inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        var stdin: [UInt8]?
        if request.stdin, v5 {
            // v5 marks the end of stdin with a close message on channel 0.
            var collected: [UInt8] = []
            reading: for try await frame in inbound {
                let bytes = Array(frame.data.readableBytesView)
                guard let first = bytes.first else { continue }
                switch Channel(rawValue: first) {
                case .stdin: collected += bytes.dropFirst()
                case .close where bytes.count > 1 && bytes[1] == Channel.stdin.rawValue: break reading
                default: continue
                }
            }
            stdin = collected
        }
        let status: JSONValue
        do {
            let outcome = try await streams.exec(node: request.node, namespace: request.namespace, pod: request.pod, command: request.command, stdin: stdin)
            if request.stdout { try await send(.stdout, outcome.stdout, to: outbound) }
            if request.stderr { try await send(.stderr, outcome.stderr, to: outbound) }
            status = outcome.exitCode == 0
                ? ["metadata": [:], "status": "Success"]
                : ["metadata": [:], "status": "Failure", "reason": "NonZeroExitCode",
                   "message": .string("command terminated with non-zero exit code: exit status \(outcome.exitCode)"),
                   "details": ["causes": [["reason": "ExitCode", "message": .string(String(outcome.exitCode))]]]]
        } catch {
            let message = (error as? VirtError)?.message ?? "\(error)"
            status = ["metadata": [:], "status": "Failure", "reason": "InternalError", "message": .string(message)]
        }
        try await send(.error, status.serializedBytes(), to: outbound)
    }

    static func send(_ channel: Channel, _ bytes: [UInt8], to outbound: WebSocketOutboundWriter) async throws {
        var offset = 0
        repeat {
            let end = min(offset + 32 * 1024, bytes.count)
            var buffer = ByteBuffer()
            buffer.writeInteger(channel.rawValue)
            buffer.writeBytes(bytes[offset..<end])
            try await outbound.write(.binary(buffer))
            offset = end
        } while offset < bytes.count
    }
}

/// The one client each serial console admits: a newcomer closes the connection of the one before.
actor ConsoleSessions {
    private var current: [String: any NIOCore.Channel] = [:]

    func takeOver(_ session: String, channel: any NIOCore.Channel) {
        if let previous = current[session], previous !== channel {
            previous.close(promise: nil)
        }
        current[session] = channel
    }

    func release(_ session: String, channel: any NIOCore.Channel) {
        if current[session] === channel { current[session] = nil }
    }
}
