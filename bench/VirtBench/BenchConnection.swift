// The benchmark's HTTPS client: one keep-alive connection per client, straight on NIO, so that the
// client's own cost (it shares the two cores with the server) stays small beside the server's.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Connections not in use, reused before a new one is opened.
final class BenchPool: Sendable {
    private let idle = Mutex<[BenchConnection]>([])
    let port: Int
    let tls: NIOSSLContext
    let group: any EventLoopGroup

    init(port: Int, tls: NIOSSLContext, group: any EventLoopGroup) {
        self.port = port
        self.tls = tls
        self.group = group
    }

    func acquire() async throws -> BenchConnection {
        if let connection = idle.withLock({ $0.popLast() }) { return connection }
        return try await BenchConnection.connect(port: port, tls: tls, group: group)
    }

    func release(_ connection: BenchConnection) { idle.withLock { $0.append(connection) } }

    func closeAll() {
        for connection in idle.withLock({ $0 }) { connection.close() }
    }
}

/// One HTTPS connection that sends one request at a time and answers with the status and body.
final class BenchConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<ResponseCollector>

    private init(channel: any Channel, handler: NIOLoopBound<ResponseCollector>) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(port: Int, tls: NIOSSLContext, group: any EventLoopGroup) async throws -> BenchConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ssl = try NIOSSLClientHandler(context: tls, serverHostname: nil)
                    try channel.pipeline.syncOperations.addHandler(ssl)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ResponseCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return BenchConnection(channel: channel, handler: handler)
    }

    /// Sends `method path` with `body` and waits for the whole answer.
    func request(_ method: HTTPMethod, _ path: String, token: String, body: [UInt8]) async throws -> (status: Int, body: ByteBuffer) {
        let promise = channel.eventLoop.makePromise(of: (Int, ByteBuffer).self)
        let channel = self.channel
        let handler = self.handler
        channel.eventLoop.execute {
            guard channel.isActive else { return promise.fail(ChannelError.ioOnClosedChannel) }
            handler.value.pending.append(promise)
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1")
            head.headers.add(name: "Authorization", value: "Bearer \(token)")
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        let (status, bytes) = try await promise.futureResult.get()
        return (status, bytes)
    }

    func close() { channel.close(promise: nil) }
}

/// Collects each answer on its connection's event loop and completes the oldest waiting request.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    var pending: [EventLoopPromise<(Int, ByteBuffer)>] = []
    private var status = 0
    private var body = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            if !pending.isEmpty { pending.removeFirst().succeed((status, body)) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        FileHandle.standardError.write(Data("bench connection: \(error)\n".utf8))
        for promise in pending { promise.fail(error) }
        pending.removeAll()
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        for promise in pending { promise.fail(ChannelError.ioOnClosedChannel) }
        pending.removeAll()
    }
}

/// A watch connection: records, on its event loop as the bytes arrive, when each `watch-…` object
/// reaches it. Finding the name by its bytes instead of parsing the event keeps the client's cost out of
/// what is measured.
final class WatchRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let onName: @Sendable (String, ContinuousClock.Instant) -> Void
    private let onHead: @Sendable (Int) -> Void
    private var pending: [UInt8] = []
    private static let marker = Array(#""name":"watch-"#.utf8)

    init(onHead: @escaping @Sendable (Int) -> Void, onName: @escaping @Sendable (String, ContinuousClock.Instant) -> Void) {
        self.onHead = onHead
        self.onName = onName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            onHead(Int(head.status.code))
        case .body(let chunk):
            let now = ContinuousClock.now

            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: 0x0A) {
                if let name = Self.name(in: pending[..<newline]) { onName(name, now) }
                pending.removeSubrange(...newline)
            }
        case .end:
            break
        }
    }

    /// The `watch-…` name in one event line, if there is one.
    static func name(in line: ArraySlice<UInt8>) -> String? {
        let marker = Self.marker
        var index = line.startIndex
        while let quote = line[index...].firstIndex(of: marker[0]) {
            if line.endIndex - quote >= marker.count, line[quote..<quote + marker.count].elementsEqual(marker) {
                let start = quote + marker.count - "watch-".utf8.count
                guard let end = line[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: line[start..<end], as: UTF8.self)
            }
            index = quote + 1
        }
        return nil
    }

    static func open(port: Int, path: String, token: String, tls: NIOSSLContext, group: any EventLoopGroup,
                     onHead: @escaping @Sendable (Int) -> Void,
                     onName: @escaping @Sendable (String, ContinuousClock.Instant) -> Void) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(WatchRecorder(onHead: onHead, onName: onName))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Authorization", value: "Bearer \(token)")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        return channel
    }
}
