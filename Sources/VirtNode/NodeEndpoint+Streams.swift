import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS
import VirtError

extension NodeEndpoint {
    /// `GET …/pods/POD/console|vnc` with `Upgrade: swiftvirt-stream`: after the 101 the connection carries
    /// the guest socket's bytes both ways, unchanged, until either side closes.
    final class StreamUpgrader: HTTPServerProtocolUpgrader, Sendable {
        let supportedProtocol = NodeEndpoint.streamProtocol
        let requiredUpgradeHeaders: [String] = []
        let streams: PodStreams

        init(streams: PodStreams) { self.streams = streams }

        /// The socket a path names, or why there is none.
        func socket(for uri: String) throws -> String {
            let parts = uri.split(separator: "?").first.map { $0.split(separator: "/").map(String.init) } ?? []
            guard parts.count == 6, parts[0] == "v1", parts[1] == "namespaces", parts[3] == "pods", ["console", "vnc"].contains(parts[5]) else {
                throw VirtError(.notFound, "the node agent streams only …/pods/POD/console and …/pods/POD/vnc, not \(uri)")
            }
            return try streams.socketPath(vnc: parts[5] == "vnc", namespace: parts[2], pod: parts[4])
        }

        func buildUpgradeResponse(channel: Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
            do {
                _ = try socket(for: upgradeRequest.uri)
                return channel.eventLoop.makeSucceededFuture(initialResponseHeaders)
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }

        func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
            let client = context.channel
            let path: String
            do {
                path = try socket(for: upgradeRequest.uri)
            } catch {
                return context.eventLoop.makeFailedFuture(error)
            }
            client.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            return ClientBootstrap(group: context.eventLoop)
                .connect(unixDomainSocketPath: path)
                .flatMap { guest in
                    // Either side's end ends the other, also before the glue is in place.
                    client.closeFuture.whenComplete { _ in guest.close(promise: nil) }
                    guest.closeFuture.whenComplete { _ in client.close(promise: nil) }
                    let (toGuest, toClient) = GlueHandler.pair()
                    return client.pipeline.addHandler(toGuest).flatMap {
                        guest.pipeline.addHandler(toClient)
                    }.flatMap {
                        client.setOption(ChannelOptions.autoRead, value: true)
                    }
                }
                .flatMapError { error in
                    // The 101 went out but no guest socket answered: nothing will come, so hang up.
                    client.close(promise: nil)
                    return client.eventLoop.makeFailedFuture(error)
                }
        }
    }

    /// One half of a pair that copies bytes between two channels on the same event loop, reading from
    /// one only while the other can take more, and closing both when either ends.
    final class GlueHandler: ChannelDuplexHandler, @unchecked Sendable {
        typealias InboundIn = NIOAny
        typealias OutboundIn = NIOAny
        typealias OutboundOut = NIOAny

        private var partner: GlueHandler?
        private var context: ChannelHandlerContext?
        private var pendingRead = false

        static func pair() -> (GlueHandler, GlueHandler) {
            let first = GlueHandler(), second = GlueHandler()
            first.partner = second
            second.partner = first
            return (first, second)
        }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func handlerRemoved(context: ChannelHandlerContext) {
            self.context = nil
            partner = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner?.context?.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            partner?.context?.flush()
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner?.context?.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            if context.channel.isWritable { partner?.readIfPending() }
        }

        func read(context: ChannelHandlerContext) {
            if partner?.context?.channel.isWritable ?? true {
                context.read()
            } else {
                pendingRead = true
            }
        }

        private func readIfPending() {
            guard pendingRead, let context else { return }
            pendingRead = false
            context.read()
        }
    }

    /// Closes a connection whose TLS handshake has not completed within `timeout`, so sockets that never
    /// speak cannot pile up.
    final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = NIOAny

        let timeout: TimeAmount
        private var deadline: Scheduled<Void>?

        init(timeout: TimeAmount) { self.timeout = timeout }

        func handlerAdded(context: ChannelHandlerContext) {
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            deadline?.cancel()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                deadline?.cancel()
                deadline = nil
            }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
