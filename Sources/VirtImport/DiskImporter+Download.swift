import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

extension DiskImporter {
    /// One streamed GET of the source: each body chunk is hashed, counted for progress and handed to
    /// `deliver` before the next is read (AsyncHTTPClient's body sequence applies backpressure: the
    /// socket is read no faster than the chunks are written).
    struct Download {
        var receivedBytes: Int64 = 0
        var contentLength: Int64?
        var digest: String?
    }

    func download(
        _ source: HTTPImportSource, progress: @escaping @Sendable (ImportProgress) -> Void,
        start: (_ contentLength: Int64?) -> Void, deliver: (UnsafeRawBufferPointer) throws(ImportError) -> Void
    ) async throws(ImportError) -> Download {
        let client = try makeClient(source)
        do {
            let result = try await stream(source, client: client, progress: progress, start: start, deliver: deliver)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func makeClient(_ source: HTTPImportSource) throws(ImportError) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if source.insecureSkipVerify { tls.certificateVerification = .none }
        if let pem = source.caBundlePEM {
            do {
                tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))]
            } catch {
                throw .invalidSource("the CA bundle (certConfigMap) is not PEM certificates: \(error)")
            }
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .follow(max: 10, allowCycles: false),
            timeout: .init(connect: connectTimeout, read: readTimeout), decompression: .disabled)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    private func stream(
        _ source: HTTPImportSource, client: HTTPClient, progress: @escaping @Sendable (ImportProgress) -> Void,
        start: (_ contentLength: Int64?) -> Void, deliver: (UnsafeRawBufferPointer) throws(ImportError) -> Void
    ) async throws(ImportError) -> Download {
        var request = HTTPClientRequest(url: source.url)
        request.method = .GET
        request.headers.add(name: "Accept-Encoding", value: "identity")
        request.headers.add(name: "User-Agent", value: "swiftvirt-importer")
        if let credentials = source.credentials {
            let token = Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic \(token)")
        }
        for header in source.headers { request.headers.add(name: header.name, value: header.value) }

        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + .hours(24))
        } catch {
            throw .transport(url: source.url, detail: Self.describe(error))
        }
        guard (200..<300).contains(response.status.code) else {
            throw .httpStatus(url: source.url, code: Int(response.status.code), reason: response.status.reasonPhrase)
        }
        var result = Download()
        result.contentLength = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        start(result.contentLength)
        progress(ImportProgress(bytesRead: 0, totalBytes: result.contentLength))
        var hasher = source.checksum?.makeHasher()
        var reported = -1
        var iterator = response.body.makeAsyncIterator()
        while true {
            let next: ByteBuffer?
            do {
                next = try await iterator.next()
            } catch {
                if let expected = result.contentLength, result.receivedBytes < expected {
                    throw .truncated(url: source.url, expected: expected, received: result.receivedBytes)
                }
                throw .transport(url: source.url, detail: Self.describe(error))
            }
            guard let buffer = next else { break }
            var failure: ImportError?
            buffer.withUnsafeReadableBytes { bytes in
                hasher?.update(bytes)
                do throws(ImportError) { try deliver(bytes) } catch { failure = error }
            }
            if let failure { throw failure }
            result.receivedBytes += Int64(buffer.readableBytes)
            let update = ImportProgress(bytesRead: result.receivedBytes, totalBytes: result.contentLength)
            let points = update.basisPoints ?? Int(result.receivedBytes >> 26)  // unknown size: every 64 MiB
            if points != reported {
                reported = points
                progress(update)
            }
        }
        if let expected = result.contentLength, result.receivedBytes < expected {
            throw .truncated(url: source.url, expected: expected, received: result.receivedBytes)
        }
        result.digest = hasher?.finalize()
        return result
    }

    /// AsyncHTTPClient's and NIO's errors in words.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        if let error = error as? BoringSSLError { return "TLS: \(error)" }
        return String(describing: error)
    }
}
