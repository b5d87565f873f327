import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import VirtAPIServer

@Suite struct WriteCoalescerTests {
    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WriteCoalescer())
        return channel
    }

    @Test func writesOfOneFlushLeaveAsOneBuffer() throws {
        let channel = try channel()
        var promises: [EventLoopFuture<Void>] = []
        for part in ["2bc\r\n", "{\"type\":\"ADDED\"}", "\r\n"] {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            channel.write(ByteBuffer(string: part), promise: promise)
            promises.append(promise.futureResult)
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "2bc\r\n{\"type\":\"ADDED\"}\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        for future in promises { try future.wait() }
    }

    @Test func aLargeWritePassesThroughAfterWhatCameBefore() throws {
        let channel = try channel()
        let large = ByteBuffer(repeating: UInt8(ascii: "x"), count: WriteCoalescer.largeWrite + 1)
        channel.write(ByteBuffer(string: "head"), promise: nil)
        channel.write(large, promise: nil)
        channel.write(ByteBuffer(string: "tail"), promise: nil)
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "head"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == large)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "tail"))
    }
}

@Suite struct ChannelChunkSinkTests {
    @Test func chunksLeaveInCallOrderAsBodyParts() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let sink = ChannelChunkSink(channel: channel)
        for line in ["a\n", "b\n", "c\n"] { sink.send(Array(line.utf8)) }
        channel.embeddedEventLoop.run()
        var seen: [String] = []
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            guard case .body(.byteBuffer(let buffer)) = part else { Issue.record("expected a body part, got \(part)"); continue }
            seen.append(String(buffer: buffer))
        }
        #expect(seen == ["a\n", "b\n", "c\n"])
    }

    @Test func belowACoalescerChunksLeaveFramedAsOneBufferEach() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WriteCoalescer())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let sink = ChannelChunkSink(channel: channel)
        sink.findCoalescer()
        let event = String(repeating: "e", count: 700) + "\n"
        sink.send(Array(event.utf8))
        sink.send(Array("b\n".utf8))
        channel.embeddedEventLoop.run()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "2bd\r\n" + event + "\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "2\r\nb\n\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test func aClientThatStopsReadingIsDropped() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let sink = ChannelChunkSink(channel: channel)
        channel.isWritable = false
        sink.send(Array("late\n".utf8))
        channel.embeddedEventLoop.run()
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        #expect(!channel.isActive)
    }
}
