// The benchmark's HTTPS client: one keep-alive connection per client, straight on NIO, so that the
// client's own cost (it shares the two cores with the server) stays small beside the server's.
import Foundation
import NIOCore
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
///
/// It speaks just enough HTTP/1.1 for the benchmark: a request is one buffer (head and body, so one TLS
/// record), and an answer must carry a Content-Length. A load generator this lean leaves the two cores to
/// the server it measures.
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
    func request(_ method: String, _ path: String, token: String, body: [UInt8]) async throws -> (status: Int, body: ByteBuffer) {
        let promise = channel.eventLoop.makePromise(of: (Int, ByteBuffer).self)
        channel.eventLoop.execute {
            self.send(method, path, token: token, body: body).cascade(to: promise)
        }
        return try await promise.futureResult.get()
    }

    /// Sends one request; on the connection's event loop.
    private func send(_ method: String, _ path: String, token: String, body: [UInt8]) -> EventLoopFuture<(Int, ByteBuffer)> {
        let promise = channel.eventLoop.makePromise(of: (Int, ByteBuffer).self)
        guard channel.isActive else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return promise.futureResult
        }
        handler.value.pending.append(promise)
        var request = channel.allocator.buffer(capacity: 200 + body.count)
        request.writeString("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n")
        request.writeString("Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
        request.writeBytes(body)
        channel.writeAndFlush(request, promise: nil)
        return promise.futureResult
    }

    /// POSTs one body per name, one after another, driven from the connection's event loop: an answer's
    /// arrival sends the next request there and then, with no task to wake in between, as an event-driven
    /// load generator does. Answers with each request's latency in ms; fails at the first answer that is
    /// not `201 Created`.
    func postInSequence(_ path: String, token: String, names: [String],
                        body: @escaping @Sendable (String) -> [UInt8]) async throws -> [Double] {
        let done = channel.eventLoop.makePromise(of: [Double].self)
        channel.eventLoop.execute {
            let latencies = NIOLoopBoundBox([Double](), eventLoop: self.channel.eventLoop)
            @Sendable func next(_ index: Int) {
                guard index < names.count else { return done.succeed(latencies.value) }
                let start = ContinuousClock.now
                self.send("POST", path, token: token, body: body(names[index])).whenComplete { result in
                    switch result {
                    case .success((let status, _)) where status == 201:
                        latencies.value.append(ms(ContinuousClock.now - start))
                        next(index + 1)
                    case .success((let status, let answer)):
                        done.fail(BenchConnectionError(description: "create \(names[index]): HTTP \(status): \(String(buffer: answer))"))
                    case .failure(let error):
                        done.fail(error)
                    }
                }
            }
            next(0)
        }
        return try await done.futureResult.get()
    }

    func close() { channel.close(promise: nil) }
}

struct BenchConnectionError: Error, CustomStringConvertible {
    let description: String
}

/// Reads HTTP/1.1 answers off the connection and completes the oldest waiting request with each.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    var pending: [EventLoopPromise<(Int, ByteBuffer)>] = []
    private var received = ByteBuffer()
    private static let headEnd = Array("\r\n\r\n".utf8)
    private static let contentLength = Array("content-length:".utf8)

    struct MalformedAnswer: Error, CustomStringConvertible {
        let description: String
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        do {
            while let (status, body) = try nextAnswer() {
                if !pending.isEmpty { pending.removeFirst().succeed((status, body)) }
            }
        } catch {
            errorCaught(context: context, error: error)
        }
        if received.readableBytes == 0 { received.clear() }
    }

    /// The next whole answer in `received`, if it has arrived.
    private func nextAnswer() throws -> (Int, ByteBuffer)? {
        let parsed: (status: Int, headLength: Int, bodyLength: Int)? = try received.withUnsafeReadableBytes { bytes in
            guard let end = Self.find(Self.headEnd, in: bytes, from: 0) else { return nil }
            let head = UnsafeRawBufferPointer(rebasing: bytes[..<end])
            guard head.count > 12, let status = Int(String(decoding: head[9..<12], as: UTF8.self)) else {
                throw MalformedAnswer(description: "no status line in \(String(decoding: head.prefix(80), as: UTF8.self))")
            }
            guard let field = Self.find(Self.contentLength, in: head, from: 0, caseInsensitive: true) else {
                throw MalformedAnswer(description: "an answer without Content-Length: \(String(decoding: head, as: UTF8.self))")
            }
            var at = field + Self.contentLength.count
            while at < head.count, head[at] == 0x20 { at += 1 }
            var length = 0
            var digits = 0
            while at < head.count, head[at] >= 0x30, head[at] <= 0x39 {
                length = length * 10 + Int(head[at] - 0x30)
                at += 1
                digits += 1
            }
            guard digits > 0 else { throw MalformedAnswer(description: "a bad Content-Length in \(String(decoding: head, as: UTF8.self))") }
            return (status, end + Self.headEnd.count, length)
        }
        guard let parsed, received.readableBytes >= parsed.headLength + parsed.bodyLength else { return nil }
        received.moveReaderIndex(forwardBy: parsed.headLength)
        return (parsed.status, received.readSlice(length: parsed.bodyLength)!)
    }

    /// Where `needle` first starts in `bytes` at or after `start` (ASCII letters of `bytes` folded to lower
    /// case when asked; `needle` is lower case).
    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int, caseInsensitive: Bool = false) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            var matched = 0
            while matched < needle.count {
                var byte = bytes[index + matched]
                if caseInsensitive, byte >= 0x41, byte <= 0x5A { byte += 0x20 }
                if byte != needle[matched] { break }
                matched += 1
            }
            if matched == needle.count { return index }
            index += 1
        }
        return nil
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
    typealias InboundIn = ByteBuffer
    private let onName: @Sendable (String, ContinuousClock.Instant) -> Void
    private let onHead: @Sendable (Int) -> Void
    private var pending: [UInt8] = []
    private var sawHead = false
    private static let marker = Array(#""name":"watch-"#.utf8)

    init(onHead: @escaping @Sendable (Int) -> Void, onName: @escaping @Sendable (String, ContinuousClock.Instant) -> Void) {
        self.onHead = onHead
        self.onName = onName
    }

    /// The bytes as TLS hands them over, HTTP framing and all: the chunk-size lines sit on lines of their own,
    /// and an event never spans a newline, so looking for names line by line needs no HTTP parser.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = ContinuousClock.now
        let chunk = unwrapInboundIn(data)
        pending.append(contentsOf: chunk.readableBytesView)
        var start = 0
        while let newline = pending[start...].firstIndex(of: 0x0A) {
            let line = pending[start..<newline]
            if !sawHead {
                sawHead = true
                let status = line.count > 12 ? Int(String(decoding: line.dropFirst(9).prefix(3), as: UTF8.self)) ?? 0 : 0
                onHead(status)
            } else if let name = Self.name(in: line) {
                onName(name, now)
            }
            start = newline + 1
        }
        pending.removeFirst(start)
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
                    try channel.pipeline.syncOperations.addHandler(WatchRecorder(onHead: onHead, onName: onName))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var request = channel.allocator.buffer(capacity: 256)
        request.writeString("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n")
        try await channel.writeAndFlush(request).get()
        return channel
    }
}
