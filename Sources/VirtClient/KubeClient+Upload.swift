import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import VirtAPI
import VirtError

extension KubeClient {
    /// Sends the file at `path` as the body of `POST url` with `Authorization: Bearer token` (CDI's upload
    /// proxy), read and sent a piece at a time (never whole in memory), calling `progress` with the bytes
    /// sent so far. The server's certificate is checked against the kubeconfig's CA unless `insecure`.
    /// A refusal (non-2xx) throws the server's `Status` as an error.
    public func uploadFile(_ path: String, to url: String, token: String, insecure: Bool,
                           progress: @escaping @Sendable (Int64) -> Void) async throws(VirtError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw VirtError(.notFound, "cannot open the image \(path); check --image-path")
        }
        defer { try? handle.close() }
        let size = Int64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.int64Value ?? 0)
        var tls = tlsConfiguration
        if insecure { tls.certificateVerification = .none }
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                              configuration: HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                                      timeout: .init(connect: .seconds(10), read: nil)))
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.headers.add(name: "User-Agent", value: configuration.userAgent)
            request.body = .stream(FileChunks(handle: handle, progress: progress), length: .known(size))
            let response = try await http.execute(request, deadline: .distantFuture)
            let body = try await response.body.collect(upTo: 1 << 20)
            try? await http.shutdown()
            guard (200..<300).contains(Int(response.status.code)) else {
                throw KubeStatus.error(httpStatus: Int(response.status.code), body: Array(body.readableBytesView))
            }
        } catch let error as VirtError {
            try? await http.shutdown()
            throw error
        } catch {
            try? await http.shutdown()
            throw transportError(error, method: "POST", path: url)
        }
    }

    /// A file's bytes in pieces of 1 MiB, for a streamed request body.
    struct FileChunks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let handle: FileHandle
        let progress: @Sendable (Int64) -> Void

        func makeAsyncIterator() -> Iterator { Iterator(handle: handle, progress: progress) }

        struct Iterator: AsyncIteratorProtocol {
            let handle: FileHandle
            let progress: @Sendable (Int64) -> Void
            var sent: Int64 = 0

            mutating func next() async throws -> ByteBuffer? {
                guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else { return nil }
                sent += Int64(data.count)
                progress(sent)
                return ByteBuffer(bytes: data)
            }
        }
    }
}
