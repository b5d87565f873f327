import Testing

@testable import VirtRegistry

/// A loopback registry that speaks only TLS, with a certificate this node does not trust: its https failure
/// is reported, not the 400 its TLS port answers plain HTTP with.
@Suite struct TLSOnlyRegistryTests {
    struct UntrustedTLS: RegistryTransport {
        struct HandshakeFailure: Error, CustomStringConvertible {
            var description: String { "TLS: handshake failed: CERTIFICATE_VERIFY_FAILED" }
        }

        func send(_ request: RegistryRequest, sink: BlobSink?) async throws -> RegistryResponse {
            if request.url.hasPrefix("https://") { throw HandshakeFailure() }
            return RegistryResponse(status: 400, body: Array("Client sent an HTTP request to an HTTPS server.\n".utf8))
        }
    }

    @Test func theHTTPSFailureIsTheAnswerNotThe400() async throws {
        let session = RegistrySession(reference: try ImageReference.parse("127.0.0.1:5000/guest:v1"), credentials: nil, transport: UntrustedTLS())
        do {
            _ = try await session.manifest()
            Issue.record("the manifest came")
        } catch {
            guard case .unreachable(let registry, let detail) = error else { Issue.record("\(error)"); return }
            #expect(registry == "127.0.0.1:5000")
            #expect(detail.contains("https: TLS: handshake failed: CERTIFICATE_VERIFY_FAILED"), "\(detail)")
            #expect(detail.contains("http: 400 (the registry speaks only TLS)"), "\(detail)")
        }
    }
}
