import Foundation
import NIOCore

/// Hands a download's body from the event loop to a thread of its own that writes it, so receiving and
/// writing run at once (on a loopback server the two cost about the same).
///
/// Up to 16 MiB wait in between; past that the event loop is told to stop reading until the writer has
/// brought them down to 4 MiB (AsyncHTTPClient reads the socket no faster than the futures of
/// `push` complete). The first write error stops the writer; every later `push` fails with it, which
/// cancels the request.
final class DownloadPipe: @unchecked Sendable {
    static let highWatermark = 16 << 20
    static let lowWatermark = 4 << 20

    private let condition = NSCondition()
    private var chunks = CircularBuffer<ByteBuffer>()
    /// Bytes pushed and not yet written (queued or being written).
    private var pendingBytes = 0
    private var contentLength: Int64?
    private var ended = false
    private var cancelled = false
    private var failure: ImportError?
    /// The event loop's wait for room, when it waits.
    private var room: EventLoopPromise<Void>?

    /// Records the response's `Content-Length` (handed to the writer's `start` before its first write).
    func begin(contentLength: Int64?) {
        condition.withLock { self.contentLength = contentLength }
    }

    /// Queues `buffer`; the future completes when there is room for the next one, or fails with the
    /// writer's error.
    func push(_ buffer: ByteBuffer, on loop: any EventLoop) -> EventLoopFuture<Void> {
        condition.lock()
        defer { condition.unlock() }
        if let failure { return loop.makeFailedFuture(failure) }
        chunks.append(buffer)
        pendingBytes += buffer.readableBytes
        condition.signal()
        guard pendingBytes >= Self.highWatermark else { return loop.makeSucceededVoidFuture() }
        let promise = loop.makePromise(of: Void.self)
        room = promise
        return promise.futureResult
    }

    /// No more chunks: the writer writes what is queued and stops (`cancel`: stops without writing it).
    func end(cancel: Bool) {
        condition.withLock {
            ended = true
            if cancel { cancelled = true }
            condition.signal()
        }
    }

    /// Writes the chunks on a new thread (the writes block) until `end`: `start` once with the
    /// `Content-Length`, then `deliver` for each chunk in order. Returns the first write error.
    func write(
        start: @escaping @Sendable (_ contentLength: Int64?) -> Void,
        deliver: @escaping @Sendable (UnsafeRawBufferPointer) throws(ImportError) -> Void
    ) async -> ImportError? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: self.drain(start: start, deliver: deliver))
            }
        }
    }

    private func drain(
        start: (_ contentLength: Int64?) -> Void, deliver: (UnsafeRawBufferPointer) throws(ImportError) -> Void
    ) -> ImportError? {
        var started = false
        while true {
            condition.lock()
            while chunks.isEmpty && !ended { condition.wait() }
            if cancelled || chunks.isEmpty {
                condition.unlock()
                if !cancelled && !started { start(contentLength) }
                return nil
            }
            let chunk = chunks.removeFirst()
            let length = contentLength
            condition.unlock()

            if !started {
                started = true
                start(length)
            }
            var error: ImportError?
            chunk.withUnsafeReadableBytes { bytes in
                do throws(ImportError) { try deliver(bytes) } catch let failure { error = failure }
            }

            condition.lock()
            pendingBytes -= chunk.readableBytes
            var wake: EventLoopPromise<Void>?
            if let error {
                failure = error
                wake = room
                room = nil
            } else if pendingBytes <= Self.lowWatermark {
                wake = room
                room = nil
            }
            condition.unlock()
            if let error {
                wake?.fail(error)
                return error
            }
            wake?.succeed(())
        }
    }
}
