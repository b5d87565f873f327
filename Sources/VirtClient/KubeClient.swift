import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import VirtAPI
import VirtError

/// A client for a Kubernetes-style REST API (SwiftVirt's own server or a real cluster): CRUD, patch,
/// server-side apply, watch and discovery, over HTTPS with a bearer token.
///
/// Every failure is a `VirtError`. When the server refused the request, the error is decoded from its `Status`
/// (code from `reason`, message, field causes) and its `cause` is a ``ServerStatus``; failures on the way (the
/// server is down, TLS does not verify) name the server URL instead.
///
/// Call ``shutdown()`` when done: the underlying `HTTPClient` must be shut down before it is released.
public final class KubeClient: Sendable {
    /// `Accept` for plain JSON objects.
    public static let jsonAccept = "application/json"
    /// `Accept` asking for a server-side `Table` (what `kubectl get` prints), falling back to plain JSON.
    public static let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"

    /// Where and how this client connects.
    public let configuration: ClientConfiguration
    /// The server URL without a trailing slash.
    public let serverURL: String

    let http: HTTPClient
    /// The TLS settings of every connection, websockets included.
    let tlsConfiguration: TLSConfiguration
    private let requestTimeout: TimeAmount
    let discoveryCache = DiscoveryCache()

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - configuration: server, CA, credentials.
    ///   - requestTimeout: how long an ordinary request may wait for the response head; watches have no limit.
    ///   - maxConnectionsPerHost: HTTP/1 connection pool size; each open watch holds one connection.
    /// - Throws: `VirtError.invalid` for a malformed server URL, CA or client certificate.
    public init(configuration: ClientConfiguration, requestTimeout: Duration = .seconds(60), maxConnectionsPerHost: Int = 128) throws(VirtError) {
        var server = configuration.server
        while server.hasSuffix("/") { server.removeLast() }
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host != nil else {
            throw VirtError(.invalid, "the server URL \"\(configuration.server)\" is not valid: it must look like https://HOST:PORT")
        }
        if let name = configuration.tlsServerName, !name.isEmpty, name != url.host {
            throw VirtError(.unsupported, "tls-server-name \(name) differs from the server's host \(url.host ?? ""); swiftvirt cannot override the TLS server name: put \(name) in the server URL instead")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if configuration.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let pem = configuration.certificateAuthorityPEM {
            do {
                let certificates = try NIOSSLCertificate.fromPEMBytes(pem)
                guard !certificates.isEmpty else { throw VirtError(.invalid, "no certificate found") }
                tls.trustRoots = .certificates(certificates)
            } catch {
                throw VirtError(.invalid, "the certificate-authority for \(server) is not a valid PEM certificate: \(error)")
            }
        }
        if let certificatePEM = configuration.clientCertificatePEM, let keyPEM = configuration.clientKeyPEM {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificatePEM).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
            } catch {
                throw VirtError(.invalid, "the client certificate or key in the kubeconfig is not valid PEM: \(error)")
            }
        }
        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: nil),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnectionsPerHost)
        )
        httpConfiguration.decompression = .disabled
        self.configuration = configuration
        self.serverURL = server
        self.tlsConfiguration = tls
        self.requestTimeout = .nanoseconds(Int64(requestTimeout.components.seconds) * 1_000_000_000 + requestTimeout.components.attoseconds / 1_000_000_000)
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    /// Creates a client from a kubeconfig found as ``Kubeconfig/locate(explicitPath:environment:)`` describes.
    public static func fromKubeconfig(path: String? = nil, context: String? = nil) throws(VirtError) -> KubeClient {
        let kubeconfig = try Kubeconfig.load(explicitPath: path)
        return try KubeClient(configuration: try kubeconfig.configuration(context: context))
    }

    /// Closes all connections. Call it once, when the client is no longer needed.
    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: - CRUD

    /// `GET` one object (or, with ``tableAccept``, its one-row `Table`).
    public func get(_ path: ResourcePath, accept: String = KubeClient.jsonAccept) async throws(VirtError) -> JSONValue {
        try await requestJSON("GET", path.urlPath, accept: accept)
    }

    /// `GET` a collection: one page of a list (`metadata.continue` names the next page).
    public func list(
        _ path: ResourcePath,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        limit: Int? = nil,
        continue continueToken: String? = nil,
        resourceVersion: String? = nil,
        accept: String = KubeClient.jsonAccept
    ) async throws(VirtError) -> JSONValue {
        var query: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        if let limit, limit > 0 { query.append(("limit", String(limit))) }
        if let continueToken, !continueToken.isEmpty { query.append(("continue", continueToken)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        return try await requestJSON("GET", path.collection.urlPath, query: query, accept: accept)
    }

    /// Lists every page of a collection and returns one list object holding all `items` (the last page's
    /// `metadata`, with `continue` removed).
    public func listAll(_ path: ResourcePath, labelSelector: String? = nil, fieldSelector: String? = nil, pageSize: Int = 500) async throws(VirtError) -> JSONValue {
        var items: [JSONValue] = []
        var token: String?
        var last: JSONValue = .object([:])
        repeat {
            last = try await list(path, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: pageSize, continue: token)
            items += last["items"]?.arrayValue ?? []
            token = last[path: ["metadata", "continue"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        last["items"] = .array(items)
        last[path: ["metadata", "continue"]] = nil
        return last
    }

    /// `POST` a new object to its collection.
    public func create(_ path: ResourcePath, body: JSONValue, dryRun: Bool = false, fieldManager: String? = nil) async throws(VirtError) -> JSONValue {
        try await requestJSON(
            "POST", path.collection.urlPath, query: writeQuery(dryRun: dryRun, fieldManager: fieldManager),
            body: body.serializedBytes(), contentType: "application/json"
        )
    }

    /// `PUT` a whole object (its `metadata.resourceVersion`, if set, must be current).
    public func update(_ path: ResourcePath, body: JSONValue, dryRun: Bool = false, fieldManager: String? = nil) async throws(VirtError) -> JSONValue {
        try await requestJSON(
            "PUT", path.urlPath, query: writeQuery(dryRun: dryRun, fieldManager: fieldManager),
            body: body.serializedBytes(), contentType: "application/json"
        )
    }

    /// `PATCH` an object with a patch document of the given type.
    public func patch(
        _ path: ResourcePath,
        body: [UInt8],
        contentType: PatchType,
        dryRun: Bool = false,
        fieldManager: String? = nil
    ) async throws(VirtError) -> JSONValue {
        try await requestJSON(
            "PATCH", path.urlPath, query: patchQuery(contentType, dryRun: dryRun, fieldManager: fieldManager),
            body: body, contentType: contentType.contentType
        )
    }

    /// `PATCH` with a JSON patch document.
    public func patch(
        _ path: ResourcePath,
        body: JSONValue,
        contentType: PatchType,
        dryRun: Bool = false,
        fieldManager: String? = nil
    ) async throws(VirtError) -> JSONValue {
        try await patch(path, body: body.serializedBytes(), contentType: contentType, dryRun: dryRun, fieldManager: fieldManager)
    }

    /// Server-side apply: `PATCH` with `application/apply-patch+yaml` (a JSON body). The server creates the
    /// object when it does not exist; ``ApplyResult/created`` says whether it did.
    public func apply(
        _ path: ResourcePath,
        object: JSONValue,
        fieldManager: String,
        force: Bool = true,
        dryRun: Bool = false
    ) async throws(VirtError) -> ApplyResult {
        let type = PatchType.apply(fieldManager: fieldManager, force: force)
        let response = try await request(
            "PATCH", path.urlPath, query: patchQuery(type, dryRun: dryRun, fieldManager: nil),
            body: object.serializedBytes(), contentType: type.contentType, accept: KubeClient.jsonAccept
        )
        return ApplyResult(object: try decode(response, what: "PATCH \(path.urlPath)"), created: response.status == 201)
    }

    /// `DELETE` an object. Returns what the server answered: the object (still there while finalizers run) or
    /// a `Status`.
    @discardableResult
    public func delete(
        _ path: ResourcePath,
        propagationPolicy: PropagationPolicy? = .background,
        dryRun: Bool = false,
        gracePeriodSeconds: Int? = nil
    ) async throws(VirtError) -> JSONValue {
        var options: [String: JSONValue] = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagationPolicy { options["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        if dryRun { options["dryRun"] = ["All"] }
        return try await requestJSON(
            "DELETE", path.urlPath, query: dryRun ? [("dryRun", "All")] : [],
            body: JSONValue.object(options).serializedBytes(), contentType: "application/json"
        )
    }

    // MARK: - Raw requests

    /// Sends any request and returns the response as it came, whatever its status; only failures to get a
    /// response at all throw. `path` is a URL path such as `/apis` or `/version`.
    public func raw(
        method: String,
        path: String,
        query: [(String, String)] = [],
        body: [UInt8]? = nil,
        contentType: String? = nil,
        accept: String = KubeClient.jsonAccept
    ) async throws(VirtError) -> RawResponse {
        let deadline = NIODeadline.now() + requestTimeout
        do {
            var request = makeRequest(method: method, path: path, query: query, body: body, contentType: contentType, accept: accept)
            request.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
            let response = try await http.execute(request, deadline: deadline)
            let bytes = try await response.body.collect(upTo: 256 << 20)
            var headers: [(name: String, value: String)] = []
            for (name, value) in response.headers { headers.append((name.lowercased(), value)) }
            return RawResponse(status: Int(response.status.code), headers: headers, body: Array(bytes.readableBytesView))
        } catch {
            throw transportError(error, method: method, path: path)
        }
    }

    /// Sends a request and throws the decoded `Status` for any non-2xx answer.
    public func request(
        _ method: String,
        _ path: String,
        query: [(String, String)] = [],
        body: [UInt8]? = nil,
        contentType: String? = nil,
        accept: String = KubeClient.jsonAccept
    ) async throws(VirtError) -> RawResponse {
        let response = try await raw(method: method, path: path, query: query, body: body, contentType: contentType, accept: accept)
        guard response.isSuccess else { throw KubeStatus.error(httpStatus: response.status, body: response.body) }
        return response
    }

    // MARK: - Internals

    func requestJSON(
        _ method: String,
        _ path: String,
        query: [(String, String)] = [],
        body: [UInt8]? = nil,
        contentType: String? = nil,
        accept: String = KubeClient.jsonAccept
    ) async throws(VirtError) -> JSONValue {
        let response = try await request(method, path, query: query, body: body, contentType: contentType, accept: accept)
        return try decode(response, what: "\(method) \(path)")
    }

    func decode(_ response: RawResponse, what: String) throws(VirtError) -> JSONValue {
        if response.body.isEmpty { return .null }
        do {
            return try JSONValue.parse(response.body)
        } catch {
            throw VirtError(.internal, "the server at \(serverURL) sent malformed JSON for \(what): \(error.message)")
        }
    }

    func makeRequest(method: String, path: String, query: [(String, String)], body: [UInt8]?, contentType: String?, accept: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: serverURL + path + ResourcePath.queryString(query))
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let token = configuration.bearerToken, !token.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    private func writeQuery(dryRun: Bool, fieldManager: String?) -> [(String, String)] {
        var query: [(String, String)] = []
        if dryRun { query.append(("dryRun", "All")) }
        if let fieldManager, !fieldManager.isEmpty { query.append(("fieldManager", fieldManager)) }
        return query
    }

    private func patchQuery(_ type: PatchType, dryRun: Bool, fieldManager: String?) -> [(String, String)] {
        var query = writeQuery(dryRun: dryRun, fieldManager: nil)
        if case .apply(let manager, let force) = type {
            query.append(("fieldManager", manager))
            query.append(("force", force ? "true" : "false"))
        } else if let fieldManager, !fieldManager.isEmpty {
            query.append(("fieldManager", fieldManager))
        }
        return query
    }

    /// Maps a failure to get any response into a `VirtError` naming the server.
    func transportError(_ error: any Error, method: String, path: String) -> VirtError {
        if let virt = error as? VirtError { return virt }
        let text = String(describing: error)
        let failure = TransportFailure(description: text)
        if let http = error as? HTTPClientError {
            if http == .deadlineExceeded || http == .readTimeout {
                return VirtError(.timeout, "the server \(serverURL) did not answer \(method) \(path) in time", cause: failure)
            }
            if http == .cancelled {
                return VirtError(.internal, "the request \(method) \(path) to \(serverURL) was cancelled", cause: failure)
            }
            if http == .connectTimeout {
                return VirtError(.serviceUnavailable, "Unable to connect to the server \(serverURL): connection timed out", cause: failure)
            }
        }
        if error is CancellationError {
            return VirtError(.internal, "the request \(method) \(path) to \(serverURL) was cancelled", cause: failure)
        }
        if text.contains("Connection refused") || text.contains("connection refused") {
            let hostPort = serverURL.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? serverURL
            return VirtError(
                .serviceUnavailable,
                "The connection to the server \(hostPort) was refused - did you specify the right host or port?",
                cause: failure
            )
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return VirtError(
                .serviceUnavailable,
                "Unable to connect to the server \(serverURL): its TLS certificate is not signed by the certificate-authority in the kubeconfig",
                cause: failure
            )
        }
        return VirtError(.serviceUnavailable, "Unable to connect to the server \(serverURL): \(text)", cause: failure)
    }
}
