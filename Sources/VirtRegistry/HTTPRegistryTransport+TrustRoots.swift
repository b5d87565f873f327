import AsyncHTTPClient
import NIOSSL

/// A transport that trusts CAs of its own (CDI's `certConfigMap` of a registry source) besides the system's.
extension HTTPRegistryTransport {
    /// A transport of its own HTTP client that also trusts the PEM certificates in `pem`; shut it down
    /// (``shutdown()``) when the pull is done. Throws ``CertificateBundleError`` when `pem` holds no certificate.
    public static func trusting(pem: String) throws(CertificateBundleError) -> HTTPRegistryTransport {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
        } catch {
            throw CertificateBundleError(detail: "\(error)")
        }
        guard !certificates.isEmpty else { throw CertificateBundleError(detail: "it holds no PEM certificate") }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(certificates)]
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(60)))
        return HTTPRegistryTransport(client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration))
    }

    /// Ends the transport's own client (never call it on ``shared``).
    public func shutdown() async {
        try? await client.shutdown()
    }
}

/// CA certificates that could not be read as PEM.
public struct CertificateBundleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var detail: String

    public init(detail: String) { self.detail = detail }

    public var description: String { "the CA certificates are not PEM certificates: \(detail)" }
}
