import NIOCore
import VirtError

/// The body of an upload request as it arrives, handed on a part at a time instead of collected (an image
/// can be many GiB): an async sequence the upload proxy reads, with backpressure on the connection.
///
/// While an upload is read the connection does not read by itself (`autoRead` off); it reads the next
/// bytes when the sequence wants more (a few parts wait in it at most), so a slow node agent slows the
/// client down instead of filling memory. A connection that ends before the body's end fails the
/// sequence, so a half-received image is never taken for a whole one. Touched on the connection's event
/// loop, except for the delegate's calls, which hop onto it.
final class UploadRequestBody {
    typealias Sequence = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Demand
    >

    let sequence: Sequence
    private let source: Sequence.Source
    private let channel: any Channel
    private let demand: Demand
    /// The end of the body was read.
    private(set) var ended = false
    /// The answer went out before the body's end: what still comes is read and dropped.
    private var draining = false
    private var drained = 0
    /// How much of an unwanted body is read (so the client sees the answer) before the connection closes.
    static let drainLimit = 64 << 20

    init(channel: any Channel) {
        self.channel = channel
        demand = Demand(channel: channel)
        let made = Sequence.makeSequence(
            backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16), finishOnDeinit: false, delegate: demand)
        sequence = made.sequence
        source = made.source
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        channel.read()
    }

    /// One part of the body, from the HTTP decoder.
    func receive(_ part: ByteBuffer) {
        if draining {
            drained += part.readableBytes
            if drained > Self.drainLimit { channel.close(promise: nil) }
            return
        }
        if source.yield(part) == .stopProducing { demand.wanted = false }
    }

    /// The end of the body.
    func finish() {
        ended = true
        source.finish()
        if draining { channel.close(promise: nil) }
    }

    /// A read from the socket ended: read again while the sequence wants more.
    func readComplete() {
        if draining || demand.wanted { channel.read() }
    }

    /// The connection ended (or broke) before the body did.
    func connectionEnded() {
        guard !ended else { return }
        source.finish(VirtError(.badRequest, "the client closed the connection before the end of the upload's body"))
    }

    /// The answer is written: a body not read to its end is drained, the connection closed after it.
    func answered() {
        source.finish()
        guard !ended else { return }
        draining = true
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        channel.read()
    }

    /// Whether the reader wants more parts; set on the event loop.
    final class Demand: NIOAsyncSequenceProducerDelegate, @unchecked Sendable {
        let channel: any Channel
        /// Touched on the channel's event loop only.
        var wanted = true

        init(channel: any Channel) {
            self.channel = channel
        }

        func produceMore() {
            channel.eventLoop.execute {
                self.wanted = true
                self.channel.read()
            }
        }

        func didTerminate() {
            channel.eventLoop.execute {
                self.wanted = true
                self.channel.read()
            }
        }
    }
}
