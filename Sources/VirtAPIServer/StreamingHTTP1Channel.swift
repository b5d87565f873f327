import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// HTTP/1.1 with websocket upgrades for the stream paths (console, VNC, exec).
///
/// A request that asks for an upgrade but is refused (no token, VMI not running, pod missing…) goes on as
/// an ordinary request, so the router answers it with a Kubernetes `Status` that says why, the way the
/// Kubernetes API server does. (hummingbird-websocket's channel answers every refused upgrade with an empty
/// 400 instead.)
struct StreamingHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    /// Decides a request that asks to upgrade: the response headers and the session, or `nil` to refuse.
    typealias Decide = @Sendable (HTTPRequestHead) async -> (HTTPFields, Session)?
    typealias Session = @Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async throws -> Void

    enum Negotiated: Sendable {
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Session)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    struct Context: WebSocketContext {
        let logger: Logger
    }

    let responder: HTTPChannelHandler.Responder
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
                        let frames = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        guard let session = chosen.value else { throw ChannelError.inappropriateOperationForState }
                        return Negotiated.webSocket(frames, session)
                    }
                })
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    // Plain HTTP, refused upgrades included: the buffered request goes to the responder.
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if let head = refused.value {
                            let upgrades = try channel.pipeline.syncOperations.context(handlerType: NIOTypedHTTPServerUpgradeHandler<Negotiated>.self)
                            upgrades.fireChannelRead(NIOAny(HTTPServerRequestPart.head(head)))
                            upgrades.fireChannelRead(NIOAny(HTTPServerRequestPart.end(nil)))
                            // The async channel hands reads on at read-complete, which NIO does not fire here.
                            upgrades.fireChannelReadComplete()
                        }
                        return Negotiated.http(http)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Negotiated>(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
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
