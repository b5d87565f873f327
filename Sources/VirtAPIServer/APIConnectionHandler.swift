import NIOCore
import NIOHTTP1
import NIOWebSocket
import VirtError

/// One HTTP/1.1 connection's requests, answered in the order they came: the end of the pipeline, where NIO's
/// HTTP codec hands over a request's parts and takes its answer.
///
/// A request is collected on the connection's event loop and answered by the router in a task: a write's
/// task runs on this loop, a read's in the shared pool (see `answerNext`). Nothing sits between the codec and
/// the router: no request or response conversions, no async sequences over the connection. A pushed body (watch) is written below the HTTP
/// encoder by `ChannelChunkSink`; a streamed one (logs) a chunk at a time, each waited for.
///
/// Requests that arrive while one is being answered wait their turn. On graceful shutdown an idle connection
/// or one serving a watch closes at once, and any other after its answer.
final class APIConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The largest request body accepted.
    static let bodyLimit = 64 << 20

    private struct Exchange {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var tooLarge = false
    }

    private let router: APIRouter
    private var reading: Exchange?
    private var waiting: [Exchange] = []
    private var answering = false
    /// The answer being written is a watch or a stream, which ends only when the client goes.
    private var streaming = false
    private var quiescing = false
    private var context: ChannelHandlerContext?
    private var executor: EventLoopTaskExecutor!
    /// The upload being answered (CDI's upload proxy paths): its body is streamed, not collected.
    private var upload: UploadRequestBody?

    init(router: APIRouter) {
        self.router = router
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if UploadProxy.matches(head.uri), !answering, waiting.isEmpty {
                startUpload(head, context: context)
                return
            }
            reading = Exchange(head: head, body: context.channel.allocator.buffer(capacity: 0))
        case .body(var part):
            if let upload {
                upload.receive(part)
                return
            }
            guard reading != nil, !reading!.tooLarge else { return }
            if reading!.body.readableBytes + part.readableBytes > Self.bodyLimit {
                reading!.tooLarge = true
                reading!.body.clear()
            } else {
                reading!.body.writeBuffer(&part)
            }
        case .end:
            if let upload {
                upload.finish()
                return
            }
            guard let exchange = reading else { return }
            reading = nil
            waiting.append(exchange)
            answerNext(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        upload?.readComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        upload?.connectionEnded()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        quiescing = true
        // Idle, or serving a watch (which would never end by itself): close now; a client resumes its watch
        // from the last resourceVersion it saw. Otherwise close after the answer being written.
        if streaming || (!answering && waiting.isEmpty && reading == nil) { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refused websocket upgrade: NIO reports it, and the request comes here to be answered with a Status.
        if error is NIOWebSocketUpgradeError { return }
        // A request the codec cannot parse ends the connection, with a 400 when nothing is being answered.
        if error is HTTPParserError, !answering {
            var headers = HTTPHeaders()
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.close(promise: nil)
    }

    // MARK: - Answering

    private func answerNext(context: ChannelHandlerContext) {
        guard !answering, !waiting.isEmpty else { return }
        answering = true
        let exchange = waiting.removeFirst()
        let head = exchange.head
        guard !exchange.tooLarge else {
            let error = VirtError(.requestEntityTooLarge, "the request body is larger than the server's limit of \(Self.bodyLimit >> 20) MiB")
            answer(.error(error), to: head, keepAlive: false)
            return
        }
        let (path, query) = Self.split(target: head.uri)
        let fields = head.headers
        let request = APIRequest(
            method: head.method.rawValue,
            path: path,
            query: RequestQuery.parse(query),
            accept: Self.combined(fields, "Accept") ?? "application/json",
            contentType: Self.combined(fields, "Content-Type") ?? "application/json",
            body: Array(exchange.body.readableBytesView))
        let authorization = fields.first(name: "Authorization")
        let router = self.router
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        // A write (one object, or a collection deleted one write at a time) runs on this connection's loop:
        // no thread hands it to the task or the answer back, and the store's writer wakes this loop directly.
        // Reads, which may list thousands of objects or hold a watch, run in the shared pool and leave the
        // loop to its other connections.
        let onLoop = head.method != .GET
        Task(executorPreference: onLoop ? executor : globalConcurrentExecutor) {
            let response = await router.respond(request, authorization: authorization)
            if loop.inEventLoop {
                handler.value.answer(response, to: head, keepAlive: head.isKeepAlive)
            } else {
                loop.execute { handler.value.answer(response, to: head, keepAlive: head.isKeepAlive) }
            }
        }
    }

    /// Writes an answer's head and body; on the connection's event loop.
    private func answer(_ response: APIResponse, to request: HTTPRequestHead, keepAlive requested: Bool) {
        guard let context, context.channel.isActive else { return }
        let keepAlive = requested && !quiescing
        var headers = HTTPHeaders()
        headers.reserveCapacity(5 + response.headers.count)
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Date", value: HTTPDate.now())
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        switch response.body {
        case .bytes(let bytes):
            headers.add(name: "Content-Length", value: String(bytes.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            if request.method != .HEAD, !bytes.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            answered(keepAlive: keepAlive)
        case .push(let run):
            headers.add(name: "Transfer-Encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            let sink = ChannelChunkSink(channel: context.channel)
            sink.prepareOnLoop()
            finishInTask(keepAlive: keepAlive) { try await run(sink) }
        case .stream(let stream):
            headers.add(name: "Transfer-Encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            let channel = context.channel
            finishInTask(keepAlive: keepAlive) {
                for try await chunk in stream where !chunk.isEmpty {
                    try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk)))).get()
                }
            }
        }
    }

    /// Runs a body's writer in a task, then ends the body on the loop; a writer that fails ends the connection.
    private func finishInTask(keepAlive: Bool, _ body: @escaping @Sendable () async throws -> Void) {
        guard let context else { return }
        streaming = true
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        Task {
            do {
                try await body()
                loop.execute { handler.value.endBody(keepAlive: keepAlive) }
            } catch {
                loop.execute { handler.value.context?.close(promise: nil) }
            }
        }
    }

    private func endBody(keepAlive: Bool) {
        guard let context, context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        answered(keepAlive: keepAlive)
    }

    private func answered(keepAlive: Bool) {
        answering = false
        streaming = false
        if let upload {
            // The connection closes after an upload's answer, once the rest of its body is drained.
            upload.answered()
            if !upload.ended { return }
            self.upload = nil
        }
        guard let context else { return }
        if !keepAlive || quiescing {
            context.close(promise: nil)
        } else {
            answerNext(context: context)
        }
    }

    /// Streams an upload's body to the upload proxy as it arrives; its answer closes the connection.
    private func startUpload(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        answering = true
        let body = UploadRequestBody(channel: context.channel)
        upload = body
        let proxy = router.uploadProxy
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let sequence = body.sequence
        // A client that sent `Expect: 100-continue` waits for this before the body: sent once the upload is
        // accepted, so a refused one never sends its image.
        let expects = head.headers["Expect"].contains { $0.lowercased() == "100-continue" }
        let proceed: @Sendable () -> Void = {
            guard expects else { return }
            loop.execute { handler.value.continueUpload(head) }
        }
        Task {
            let response = await proxy.serve(head, body: sequence, proceed: proceed)
            loop.execute { handler.value.answer(response, to: head, keepAlive: false) }
        }
    }

    /// `100 Continue` for an accepted upload whose client waits for it.
    private func continueUpload(_ head: HTTPRequestHead) {
        guard let context, context.channel.isActive, upload != nil else { return }
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
    }

    // MARK: - Request target

    /// The path and the query of a request target: origin form (`/p?q`) or absolute form
    /// (`https://host/p?q`); a fragment is dropped.
    static func split(target: String) -> (path: String, query: String) {
        var rest = Substring(target)
        if rest.first != "/", let scheme = rest.firstRange(of: "://") {
            let authorityAndPath = rest[scheme.upperBound...]
            rest = authorityAndPath.utf8.firstIndex(of: UInt8(ascii: "/")).map { authorityAndPath[$0...] } ?? "/"
        }
        if let hash = rest.utf8.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<hash] }
        guard let mark = rest.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (String(rest), "") }
        return (String(rest[..<mark]), String(rest[rest.index(after: mark)...]))
    }

    /// Every value of a header, joined with commas as HTTP allows; nil when the header is absent.
    static func combined(_ headers: HTTPHeaders, _ name: String) -> String? {
        let values = headers[name]
        switch values.count {
        case 0: return nil
        case 1: return values[0]
        default: return values.joined(separator: ", ")
        }
    }
}

/// Runs a task's jobs on one event loop, in the loop's order.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
