import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The registry transport over AsyncHTTPClient: TLS verified against the system's CAs, no redirects
/// followed (the session follows them, dropping credentials on the way to another host), a connect
/// timeout and an idle-read timeout but no overall deadline (a layer may take minutes).
public struct HTTPRegistryTransport: RegistryTransport {
    let client: HTTPClient

    /// One client for the process, never shut down: pulls share its connection pool.
    public static let shared = HTTPRegistryTransport(client: HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(60)))))

    init(client: HTTPClient) { self.client = client }

    public func send(_ request: RegistryRequest, sink: BlobSink?) async throws -> RegistryResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        outgoing.headers.replaceOrAdd(name: "User-Agent", value: "swiftvirt")
        let response = try await client.execute(outgoing, timeout: .hours(24))
        var headers: [String: String] = [:]
        for (name, value) in response.headers {
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0), \(value)" } ?? value
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status), let sink, request.method != "HEAD" {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { try sink.write($0) }
            }
            return RegistryResponse(status: status, headers: headers)
        }
        var body: [UInt8] = []
        for try await buffer in response.body {
            guard body.count < RegistryResponse.maximumBody else { continue }
            body.append(contentsOf: buffer.readableBytesView.prefix(RegistryResponse.maximumBody - body.count))
        }
        return RegistryResponse(status: status, headers: headers, body: body)
    }
}
