import NIOCore

/// Joins the small writes made between two flushes into one buffer, so that TLS seals them as one record.
///
/// The HTTP/1 encoder writes a chunk of a watch as three buffers (size line, data, CRLF) and an answer as
/// a head and a body; sealed one by one, each becomes its own TLS record that both ends encrypt, frame and
/// decrypt. Joined, one event to one watcher is one record and one `write`. Buffers larger than
/// `largeWrite` pass through as they are, after what was joined before them.
final class WriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    static let largeWrite = 16 * 1024

    private var pending: ByteBuffer?
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data),
              buffer.readableBytes + (pending?.readableBytes ?? 0) <= Self.largeWrite
        else {
            writePending(context: context)
            context.write(data, promise: promise)
            return
        }
        if pending == nil {
            pending = buffer
        } else {
            pending!.writeBuffer(&buffer)
        }
        if let promise { promises.append(promise) }
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writePending(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writePending(context: context)
    }

    /// Passes on what was joined so far, completing each joined write's promise with the one write.
    private func writePending(context: ChannelHandlerContext) {
        guard let buffer = pending else { return }
        pending = nil
        let waiting = promises
        promises.removeAll(keepingCapacity: true)
        switch waiting.count {
        case 0:
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        case 1:
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: waiting[0])
        default:
            let joined = context.eventLoop.makePromise(of: Void.self)
            for promise in waiting { joined.futureResult.cascade(to: promise) }
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: joined)
        }
    }
}
