import Foundation
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import VirtAPI

/// Query strings as Kubernetes clients send them.
enum RequestQuery {
    /// `a=b&c=d`, with `+` as space and percent-escapes decoded, as Go's url package encodes; the last
    /// of repeated keys wins.
    static func parse(_ query: String) -> [String: String] {
        guard !query.isEmpty else { return [:] }
        return Dictionary(pairs(query), uniquingKeysWith: { _, last in last })
    }

    /// The decoded pairs of a query in order, repeated keys kept (`command=a&command=b`).
    static func pairs(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func decode(_ text: Substring) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else { return String(text) }
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// Writes a pushed body's chunks to its HTTP/1 connection from any thread, in call order: each goes
/// through the connection's event loop queue, which runs in submission order.
///
/// Each chunk is framed here (`size CRLF data CRLF`, the response being chunked) and handed to TLS below
/// the HTTP encoder, as one buffer and so one TLS record. Where the pipeline has no `WriteCoalescer` to
/// write below, chunks go through the HTTP encoder as body parts.
///
/// A client that stops reading is dropped once `dropAfter` bytes wait for it, as Kubernetes drops a watcher
/// that falls behind; a watch client resumes from the last resourceVersion it saw.
final class ChannelChunkSink: ChunkSink {
    let channel: any Channel
    static let dropAfter = 8 << 20
    /// The coalescer's context: a write from it goes straight to TLS.
    private let belowEncoder: NIOLoopBoundBox<ChannelHandlerContext?>

    init(channel: any Channel) {
        self.channel = channel
        belowEncoder = .makeEmptyBox(valueType: ChannelHandlerContext.self, eventLoop: channel.eventLoop)
    }

    /// Sets the limit for a client that stops reading and finds the coalescer; on the connection's event
    /// loop, before the first chunk is sent.
    func prepareOnLoop() {
        try? channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: Self.dropAfter / 2, high: Self.dropAfter))
        findCoalescer()
    }

    /// Finds the coalescer to write below; on the connection's event loop.
    func findCoalescer() {
        belowEncoder.value = try? channel.pipeline.syncOperations.context(handlerType: WriteCoalescer.self)
    }

    func send(_ chunk: PushChunk) {
        channel.eventLoop.execute { self.write(chunk) }
    }

    /// Writes one chunk; on the connection's event loop.
    func write(_ chunk: PushChunk) {
        guard channel.isActive, !chunk.bytes.isEmpty else { return }
        guard channel.isWritable else {
            channel.close(promise: nil)
            return
        }
        guard let context = belowEncoder.value else {
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk.bytes))), promise: nil)
            return
        }
        context.writeAndFlush(NIOAny(chunk.framed), promise: nil)
    }

    /// Returns once the connection has closed; cancelling the waiting task closes it.
    func closed() async {
        await channel.closedOrClosing()
    }
}

extension Channel {
    /// Returns once the channel has closed; cancelling the waiting task closes it.
    func closedOrClosing() async {
        await withTaskCancellationHandler {
            try? await closeFuture.get()
        } onCancel: {
            close(promise: nil)
        }
    }
}

/// The API server as a `Service`: HTTPS with the daemon's certificate (or plain HTTP when no
/// credentials are given, for in-process tests).
public struct APIServer: Service {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var credentials: ServerCredentials?

        public init(host: String, port: Int, credentials: ServerCredentials?) {
            self.host = host
            self.port = port
            self.credentials = credentials
        }
    }

    let configuration: Configuration
    let router: APIRouter
    let onListening: @Sendable (Int) async -> Void
    let logger: Logger

    public init(configuration: Configuration, router: APIRouter, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let edge = WebSocketEdge(router: router)
        let plain = StreamingHTTP1Channel(router: router, decide: { head in await edge.decide(head) }, maxFrameSize: 1 << 20)
        if let credentials = configuration.credentials {
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(credentials.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(credentials.privateKeyPEM.utf8), format: .pem)))
            // A closing connection waits this long for the client's close_notify (5 s by default), longer than
            // the daemon's shutdown allows.
            tls.shutdownTimeout = .milliseconds(500)
            try await serve(TLSChannel(plain, tlsConfiguration: tls))
        } else {
            try await serve(plain)
        }
    }

    /// Listens and serves connections until graceful shutdown, which lets each connection finish the answer
    /// it is writing.
    private func serve<Child: ServerChildChannel>(_ child: Child) async throws {
        var quietLogger = logger
        quietLogger.logLevel = max(logger.logLevel, .warning)
        let onListening = self.onListening
        let server = Server(
            childChannelSetup: child,
            configuration: ServerConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "swiftvirt"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: quietLogger)
        try await server.run()
    }
}
