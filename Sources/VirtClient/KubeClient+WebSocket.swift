import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import VirtError

/// One open websocket, as binary messages both ways.
public struct WebSocketSession: Sendable {
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter
    /// The subprotocol the server chose, if any.
    public let subprotocol: String?

    /// Sends one binary message.
    public func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
    }

    /// Calls `body` with each message the server sends (text arrives as its UTF-8 bytes) until it closes.
    public func receive(_ body: ([UInt8]) async throws -> Void) async throws {
        for try await message in inbound.messages(maxSize: 16 << 20) {
            switch message {
            case .binary(let buffer): try await body(Array(buffer.readableBytesView))
            case .text(let text): try await body(Array(text.utf8))
            }
        }
    }
}

extension KubeClient {
    static func isIPAddress(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }

    /// Opens a websocket on `path` (console, VNC, exec) and runs `session` on it; the socket closes when
    /// `session` returns.
    ///
    /// When the server refuses the upgrade, the same request is sent once more as a plain `GET` so the error
    /// thrown is the server's own `Status` (VMI not running, pod not found…), not a bare upgrade failure.
    public func webSocket(
        _ path: String,
        query: [(String, String)] = [],
        subprotocols: [String],
        session: @escaping @Sendable (WebSocketSession) async throws -> Void
    ) async throws {
        let secure = serverURL.hasPrefix("https://")
        let url = (secure ? "wss://" + serverURL.dropFirst(8) : "ws://" + serverURL.dropFirst(7)) + path + ResourcePath.queryString(query)
        var headers = HTTPFields()
        if let token = configuration.bearerToken, !token.isEmpty {
            headers[.authorization] = "Bearer \(token)"
        }
        if !subprotocols.isEmpty {
            headers[.secWebSocketProtocol] = subprotocols.joined(separator: ", ")
        }
        if let agent = HTTPField.Name("User-Agent") { headers[agent] = configuration.userAgent }
        // TLS names a server by host name (SNI), never by IP address, and the websocket library checks the
        // certificate against that name. For a server reached by IP (the kubeconfig's usual 127.0.0.1), the
        // certificate chain is still verified against the kubeconfig's own CA, which signs only this cluster's
        // servers, but not matched against the address.
        var tls = tlsConfiguration
        var sniHostname: String?
        if let host = URL(string: serverURL)?.host, Self.isIPAddress(host), configuration.certificateAuthorityPEM != nil,
           tls.certificateVerification == .fullVerification {
            tls.certificateVerification = .noHostnameVerification
            sniHostname = "kubernetes"
        }
        var logger = Logger(label: "swiftvirt.websocket")
        logger.logLevel = .critical
        do {
            try await WebSocketClient.connect(
                url: url,
                configuration: .init(maxFrameSize: 16 << 20, additionalHeaders: headers, autoPing: .disabled, sniHostname: sniHostname),
                tlsConfiguration: secure ? tls : nil,
                logger: logger
            ) { inbound, outbound, _ in
                // The server answers with one of the offered subprotocols; the client library checks it.
                try await session(WebSocketSession(inbound: inbound, outbound: outbound, subprotocol: subprotocols.first))
            }
        } catch let error as WebSocketClientError {
            // Ask again without the upgrade to learn why it was refused.
            let response = try await raw(method: "GET", path: path, query: query)
            if !response.isSuccess { throw KubeStatus.error(httpStatus: response.status, body: response.body) }
            throw VirtError(.internal, "the websocket to \(serverURL)\(path) could not be opened: \(error)")
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError(.serviceUnavailable, "the websocket to \(serverURL)\(path) failed: \(error)")
        }
    }
}
