import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Receives one download on its event loop: checks the status, hashes and counts each body chunk,
/// reports progress and queues the chunk in the pipe to its writer. All calls come from the one event
/// loop the request runs on (AsyncHTTPClient's delegate contract), one at a time.
final class DownloadDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = DiskImporter.Download

    /// The response's status was not 2xx; the request is cancelled before its body is read.
    struct Refused: Error {
        var status: HTTPResponseStatus
    }

    private let pipe: DownloadPipe
    private let progress: @Sendable (ImportProgress) -> Void
    private var hasher: ImportHasher?
    private var reported = -1
    /// What has been received so far; read once the request has ended.
    private(set) var download = DiskImporter.Download()

    init(pipe: DownloadPipe, hasher: ImportHasher?, progress: @escaping @Sendable (ImportProgress) -> Void) {
        self.pipe = pipe
        self.hasher = hasher
        self.progress = progress
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        guard (200..<300).contains(head.status.code) else { return task.eventLoop.makeFailedFuture(Refused(status: head.status)) }
        download.contentLength = head.headers.first(name: "Content-Length").flatMap { Int64($0) }
        pipe.begin(contentLength: download.contentLength)
        progress(ImportProgress(bytesRead: 0, totalBytes: download.contentLength))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if hasher != nil { buffer.withUnsafeReadableBytes { hasher?.update($0) } }
        download.receivedBytes += Int64(buffer.readableBytes)
        let update = ImportProgress(bytesRead: download.receivedBytes, totalBytes: download.contentLength)
        let points = update.basisPoints ?? Int(download.receivedBytes >> 26)  // unknown size: every 64 MiB
        if points != reported {
            reported = points
            progress(update)
        }
        return pipe.push(buffer, on: task.eventLoop)
    }

    func didReceiveError(task: HTTPClient.Task<Response>, _ error: any Error) {}

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        download.digest = hasher?.finalize()
        return download
    }
}
