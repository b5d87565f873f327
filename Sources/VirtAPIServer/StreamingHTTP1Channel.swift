import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// HTTP/1.1 with websocket upgrades for the stream paths (console, VNC, exec); every other request is
/// answered by `APIConnectionHandler`.
///
/// A request that asks for an upgrade but is refused (no token, VMI not running, pod missing…) goes on as
/// an ordinary request, so the router answers it with a Kubernetes `Status` that says why, the way the
/// Kubernetes API server does. (hummingbird-websocket's channel answers every refused upgrade with an empty
/// 400 instead.)
struct StreamingHTTP1Channel: ServerChildChannel {
    /// Decides a request that asks to upgrade: the response headers and the session, or `nil` to refuse.
    typealias Decide = @Sendable (HTTPRequestHead) async -> (HTTPFields, Session)?
    typealias Session = @Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async throws -> Void

    enum Negotiated: Sendable {
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Session)
        /// Plain HTTP, answered by an `APIConnectionHandler` at the end of the pipeline.
        case http(any Channel)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    struct Context: WebSocketContext {
        let logger: Logger
    }

    let router: APIRouter
    let decide: Decide
    let maxFrameSize: Int

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Next to TLS: the writes of one flush leave as one record.
            try channel.pipeline.syncOperations.addHandler(WriteCoalescer())
            // The session chosen while deciding, handed to the pipeline once NIO has switched protocols.
            let chosen = NIOLoopBoundBox<Session?>(nil, eventLoop: channel.eventLoop)
            // NIO keeps neither the head nor the end of a request whose upgrade it tried: a refused one is
            // replayed from here into the HTTP side.
            let refused = NIOLoopBoundBox<HTTPRequestHead?>(nil, eventLoop: channel.eventLoop)
            let decide = self.decide
            let router = self.router
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                    promise.completeWithTask {
                        guard let (fields, session) = await decide(head) else {
                            try await channel.eventLoop.submit { refused.value = head }.get()
                            return nil
                        }
                        try await channel.eventLoop.submit { chosen.value = session }.get()
                        var headers = HTTPHeaders()
                        for field in fields { headers.add(name: field.name.rawName, value: field.value) }
                        return headers
                    }
                    return promise.futureResult
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        let http = try channel.pipeline.syncOperations.handler(type: APIConnectionHandler.self)
                        channel.pipeline.syncOperations.removeHandler(http, promise: nil)
                        let frames = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        guard let session = chosen.value else { throw ChannelError.inappropriateOperationForState }
                        return Negotiated.webSocket(frames, session)
                    }
                })
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    // Plain HTTP, refused upgrades included: NIO hands the buffered request on to the
                    // `APIConnectionHandler` at the end of the pipeline.
                    channel.eventLoop.makeCompletedFuture {
                        if let head = refused.value {
                            let upgrades = try channel.pipeline.syncOperations.context(handlerType: NIOTypedHTTPServerUpgradeHandler<Negotiated>.self)
                            upgrades.fireChannelRead(NIOAny(HTTPServerRequestPart.head(head)))
                            upgrades.fireChannelRead(NIOAny(HTTPServerRequestPart.end(nil)))
                        }
                        return Negotiated.http(channel)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Negotiated>(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            // At the end from the start, so that it also answers a first request that cannot be parsed (NIO
            // decides about upgrades only once a head has been read); an upgrade removes it.
            try channel.pipeline.syncOperations.addHandler(APIConnectionHandler(router: router))
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http(let channel):
                // The handler answers on the channel's loop; this task only keeps the connection counted
                // until it closes, and closes it when cancelled.
                await channel.closedOrClosing()
            case .webSocket(let frames, let session):
                _ = try await WebSocketHandler.handle(
                    type: .server,
                    configuration: .init(extensions: [], autoPing: .enabled(timePeriod: .seconds(30)), validateUTF8: false,
                                         maxFrameSize: maxFrameSize),
                    asyncChannel: frames, context: Context(logger: logger)
                ) { inbound, outbound, _ in
                    try await session(inbound, outbound)
                }
            }
        } catch {
            logger.debug("connection ended: \(error)")
        }
    }
}
