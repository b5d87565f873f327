import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

extension DiskImporter {
    /// One streamed GET of the source: each body chunk is hashed and counted for progress on the event
    /// loop, and handed to `deliver` on a writer thread (`DownloadPipe`), so the socket is read while
    /// the previous chunks are written; the writer falling 16 MiB behind pauses the reading.
    struct Download: Sendable {
        var receivedBytes: Int64 = 0
        var contentLength: Int64?
        var digest: String?
    }

    /// Downloads `source`, calling `start` with the `Content-Length` and then `deliver` with each chunk in
    /// order, both from the writer thread, one call at a time.
    func download(
        _ source: HTTPImportSource, progress: @escaping @Sendable (ImportProgress) -> Void,
        start: @escaping @Sendable (_ contentLength: Int64?) -> Void,
        deliver: @escaping @Sendable (UnsafeRawBufferPointer) throws(ImportError) -> Void
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
        start: @escaping @Sendable (_ contentLength: Int64?) -> Void,
        deliver: @escaping @Sendable (UnsafeRawBufferPointer) throws(ImportError) -> Void
    ) async throws(ImportError) -> Download {
        var headers = HTTPHeaders()
        headers.add(name: "Accept-Encoding", value: "identity")
        headers.add(name: "User-Agent", value: "swiftvirt-importer")
        if let credentials = source.credentials {
            let token = Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
            headers.add(name: "Authorization", value: "Basic \(token)")
        }
        for header in source.headers { headers.add(name: header.name, value: header.value) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: source.url, method: .GET, headers: headers)
        } catch {
            throw .invalidSource("\"\(source.url)\" is not a URL that can be fetched: \(Self.describe(error))")
        }

        let pipe = DownloadPipe()
        let delegate = DownloadDelegate(pipe: pipe, hasher: source.checksum?.makeHasher(), progress: progress)
        async let writeFailure = pipe.write(start: start, deliver: deliver)
        // The request, its connection and the delegate on one event loop: no hop between them per chunk.
        let loop = client.eventLoopGroup.next()
        let task = client.execute(request: request, delegate: delegate, eventLoop: .delegateAndChannel(on: loop), deadline: .now() + .hours(24))
        let outcome: Result<Download, any Error>
        do {
            outcome = .success(try await task.futureResult.get())
        } catch {
            outcome = .failure(error)
        }
        if case .failure = outcome { pipe.end(cancel: true) } else { pipe.end(cancel: false) }
        // A write that failed says why the download stopped (its failure cancelled the request).
        if let failure = await writeFailure { throw failure }

        switch outcome {
        case .success(let result):
            if let expected = result.contentLength, result.receivedBytes < expected {
                throw .truncated(url: source.url, expected: expected, received: result.receivedBytes)
            }
            return result
        case .failure(let error):
            if let refused = error as? DownloadDelegate.Refused {
                throw .httpStatus(url: source.url, code: Int(refused.status.code), reason: refused.status.reasonPhrase)
            }
            let received = delegate.download
            if let expected = received.contentLength, received.receivedBytes < expected {
                throw .truncated(url: source.url, expected: expected, received: received.receivedBytes)
            }
            throw .transport(url: source.url, detail: Self.describe(error))
        }
    }

    /// AsyncHTTPClient's and NIO's errors in words.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        if let error = error as? BoringSSLError { return "TLS: \(error)" }
        return String(describing: error)
    }
}
