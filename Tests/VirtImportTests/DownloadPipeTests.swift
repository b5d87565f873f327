import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import VirtImport

/// The hand-over of a download's body from the event loop to its writer thread.
@Suite struct DownloadPipeTests {
    /// What the writer was given, in order.
    final class Written: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [String] = []
        private var bytes: [UInt8] = []
        func start(_ length: Int64?) { lock.withLock { events.append("start \(length.map(String.init) ?? "nil")") } }
        func take(_ chunk: UnsafeRawBufferPointer) {
            lock.withLock {
                events.append("chunk \(chunk.count)")
                bytes.append(contentsOf: chunk)
            }
        }
        var log: [String] { lock.withLock { events } }
        var all: [UInt8] { lock.withLock { bytes } }
    }

    @Test func theWriterGetsTheLengthThenEveryChunkInOrder() async throws {
        let pipe = DownloadPipe()
        let loop = HTTPClient.defaultEventLoopGroup.next()
        let written = Written()
        pipe.begin(contentLength: 6)
        async let failure = pipe.write(start: { written.start($0) }, deliver: { written.take($0) })
        for part in [[1, 2], [3], [4, 5, 6]] as [[UInt8]] {
            try await pipe.push(ByteBuffer(bytes: part), on: loop).get()
        }
        pipe.end(cancel: false)
        #expect(await failure == nil)
        #expect(written.log == ["start 6", "chunk 2", "chunk 1", "chunk 3"])
        #expect(written.all == [1, 2, 3, 4, 5, 6])
    }

    @Test func anEmptyBodyStillStartsTheWriter() async {
        let pipe = DownloadPipe()
        let written = Written()
        pipe.begin(contentLength: nil)
        async let failure = pipe.write(start: { written.start($0) }, deliver: { written.take($0) })
        pipe.end(cancel: false)
        #expect(await failure == nil)
        #expect(written.log == ["start nil"])
    }

    @Test func aWriterFarBehindPausesTheReadingUntilItCatchesUp() async throws {
        let pipe = DownloadPipe()
        let loop = HTTPClient.defaultEventLoopGroup.next()
        let written = Written()
        let gate = DispatchSemaphore(value: 0)
        pipe.begin(contentLength: nil)
        async let failure = pipe.write(start: { written.start($0) }, deliver: { bytes in
            gate.wait()
            written.take(bytes)
        })
        let chunk = ByteBuffer(repeating: 7, count: 1 << 20)
        let count = DownloadPipe.highWatermark / chunk.readableBytes
        var futures: [EventLoopFuture<Void>] = []
        for _ in 0..<count { futures.append(pipe.push(chunk, on: loop)) }
        let resumed = Written()
        futures[count - 1].whenSuccess { resumed.start(nil) }
        // Every callback already due on the loop has run once this task has.
        try await loop.submit {}.get()
        try await EventLoopFuture.andAllSucceed(Array(futures.dropLast()), on: loop).get()
        #expect(resumed.log.isEmpty)

        for _ in 0..<count { gate.signal() }
        try await futures[count - 1].get()
        pipe.end(cancel: false)
        #expect(await failure == nil)
        #expect(written.all.count == count << 20)
    }

    @Test func aWriteErrorStopsTheWriterAndFailsTheNextPush() async throws {
        let pipe = DownloadPipe()
        let loop = HTTPClient.defaultEventLoopGroup.next()
        pipe.begin(contentLength: nil)
        async let failure = pipe.write(start: { _ in }, deliver: { (_) throws(ImportError) in throw .diskFull(path: "/volume/disk.img") })
        try await pipe.push(ByteBuffer(bytes: [1]), on: loop).get()
        let error = await failure
        guard case .diskFull(let path)? = error else {
            Issue.record("expected the writer's disk-full error, got \(String(describing: error))")
            return
        }
        #expect(path == "/volume/disk.img")
        await #expect(throws: ImportError.self) { try await pipe.push(ByteBuffer(bytes: [2]), on: loop).get() }
        pipe.end(cancel: true)
    }
}
