import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import ServiceLifecycle
import Synchronization
import VirtAPI

/// The HTTP(S) edge: turns Hummingbird requests into `APIRequest`s for the router and streams the answers.
struct HTTPEdge: HTTPResponder {
    typealias Context = EdgeContext
    let router: APIRouter

    func respond(to request: Request, context: Context) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        let apiRequest = APIRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: Self.parseQuery(request.uri.query ?? ""),
            accept: request.headers[.accept] ?? "application/json",
            contentType: request.headers[.contentType] ?? "application/json",
            body: Array(buffer.readableBytesView))
        let response = await router.respond(apiRequest, authorization: request.headers[.authorization])
        var headers = HTTPFields()
        headers[.contentType] = response.contentType
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        let status = HTTPResponse.Status(code: response.status)
        switch response.body {
        case .bytes(let bytes):
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .push(let run):
            let sink = ChannelChunkSink(channel: context.channel)
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                // The head has gone to the channel; the chunks follow it on the same event loop queue.
                await sink.prepare()
                try await run(sink)
                try await writer.finish(nil)
            })
        case .stream(let stream):
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                for try await chunk in stream {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
        }
    }

    /// `a=b&c=d`, with `+` as space and percent-escapes decoded, as Go's url package encodes; the last
    /// of repeated keys wins.
    static func parseQuery(_ query: String) -> [String: String] {
        Dictionary(queryPairs(query), uniquingKeysWith: { _, last in last })
    }

    /// The decoded pairs of a query in order, repeated keys kept (`command=a&command=b`).
    static func queryPairs(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// The request context: Hummingbird's, plus the connection, for bodies pushed straight to it.
struct EdgeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
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

    /// Sets the limit for a client that stops reading and finds the coalescer, on the connection's loop,
    /// before the first chunk is sent.
    func prepare() async {
        try? await channel.eventLoop.submit {
            try self.channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: Self.dropAfter / 2, high: Self.dropAfter))
            self.findCoalescer()
        }.get()
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
            channel.writeAndFlush(HTTPResponsePart.body(ByteBuffer(bytes: chunk.bytes)), promise: nil)
            return
        }
        context.writeAndFlush(NIOAny(chunk.framed), promise: nil)
    }

    /// Returns once the connection has closed; cancelling the waiting task closes it.
    func closed() async {
        let channel = self.channel
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
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
        let webSocketServer = HTTPServerBuilder { responder in
            StreamingHTTP1Channel(responder: responder, decide: { head in await edge.decide(head) }, maxFrameSize: 1 << 20)
        }
        let server: HTTPServerBuilder
        if let credentials = configuration.credentials {
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(credentials.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(credentials.privateKeyPEM.utf8), format: .pem)))
            server = try .tls(webSocketServer, tlsConfiguration: tls)
        } else {
            server = webSocketServer
        }
        let onListening = self.onListening
        var quietLogger = logger
        quietLogger.logLevel = .warning
        let app = Application(
            responder: HTTPEdge(router: router),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "swiftvirt"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: quietLogger)
        try await app.run()
    }
}
