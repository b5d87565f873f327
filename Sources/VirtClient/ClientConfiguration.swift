/// Everything a ``KubeClient`` needs to reach one API server: the resolved form of a kubeconfig context.
public struct ClientConfiguration: Sendable, Equatable {
    /// The server's base URL, e.g. `https://127.0.0.1:6443` (a path prefix is kept).
    public var server: String
    /// PEM bytes of the certificate authorities to trust; `nil` trusts the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    /// Skip verifying the server's certificate (`insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify: Bool
    /// Overrides the host name checked against the server certificate (`tls-server-name`).
    public var tlsServerName: String?
    /// The bearer token sent as `Authorization: Bearer …`.
    public var bearerToken: String?
    /// PEM bytes of a client certificate chain, for certificate authentication.
    public var clientCertificatePEM: [UInt8]?
    /// PEM bytes of the client certificate's private key.
    public var clientKeyPEM: [UInt8]?
    /// The namespace of the kubeconfig context, if it names one.
    public var namespace: String?
    /// The `User-Agent` header.
    public var userAgent: String

    /// Creates a configuration; only `server` is required.
    public init(
        server: String,
        certificateAuthorityPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false,
        tlsServerName: String? = nil,
        bearerToken: String? = nil,
        clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil,
        namespace: String? = nil,
        userAgent: String = "swiftvirt/0.1"
    ) {
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.bearerToken = bearerToken
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.namespace = namespace
        self.userAgent = userAgent
    }
}
