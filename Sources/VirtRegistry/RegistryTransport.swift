/// One HTTP exchange with a registry, behind a protocol so tests can play the registry's part.
public protocol RegistryTransport: Sendable {
    /// Sends `request` without following redirects. A successful (2xx) body goes to `sink` when one is
    /// given, piece by piece; any other body is collected (up to `RegistryResponse.maximumBody` bytes).
    /// Throws only when no HTTP answer came (the registry is unreachable).
    func send(_ request: RegistryRequest, sink: BlobSink?) async throws -> RegistryResponse
}

/// A request to a registry or its token service.
public struct RegistryRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    /// Header names as sent; `Authorization` among them once authenticated.
    public var headers: [(name: String, value: String)]

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = []) {
        self.method = method
        self.url = url
        self.headers = headers
    }

    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }

    public static func == (lhs: RegistryRequest, rhs: RegistryRequest) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.headers.map { "\($0.name): \($0.value)" } == rhs.headers.map { "\($0.name): \($0.value)" }
    }
}

/// A registry's answer.
public struct RegistryResponse: Sendable {
    /// The largest body read into memory: manifests are at most 4 MiB by the distribution spec.
    public static let maximumBody = 4 << 20

    public var status: Int
    /// Headers by lowercased name; repeated headers joined with `, ` (as `WWW-Authenticate` challenges may be).
    public var headers: [String: String]
    /// The collected body (empty when it went to a sink).
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { "\($0), \($1)" })
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}
