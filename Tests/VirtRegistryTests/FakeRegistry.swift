import Crypto
import Foundation
import Synchronization

@testable import VirtRegistry

/// A registry in memory, playing the distribution API's part for `RegistrySession`: manifests and blobs by
/// digest, tags, an auth mode (none, basic, bearer through a token service), and a log of every request.
final class FakeRegistry: RegistryTransport {
    enum Auth: Sendable {
        case none
        case basic(user: String, password: String)
        case bearer(user: String?, password: String?)
    }

    struct State {
        var manifests: [String: (mediaType: String, bytes: [UInt8])] = [:]
        var tags: [String: String] = [:]
        var blobs: [String: [UInt8]] = [:]
        var requests: [RegistryRequest] = []
        var speaksTLS = true
        var blobRedirect: String?
        var corruptBlobs = false
    }

    let host: String
    let auth: Auth
    let state = Mutex(State())
    static let token = "fake-token-123"

    init(host: String = "registry.test", auth: Auth = .none) {
        self.host = host
        self.auth = auth
    }

    static func digest(_ bytes: [UInt8]) -> String { "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    /// Adds a blob; returns its descriptor.
    @discardableResult
    func addBlob(_ bytes: [UInt8], mediaType: String = "application/vnd.oci.image.layer.v1.tar") -> ManifestDescriptor {
        let digest = Self.digest(bytes)
        state.withLock { $0.blobs[digest] = bytes }
        return ManifestDescriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }

    /// Adds a manifest of `layers` under `tag`; returns its digest.
    @discardableResult
    func addManifest(layers: [ManifestDescriptor], tag: String?) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let manifest = ManifestDocument.ImageManifest(schemaVersion: 2, mediaType: ManifestDocument.MediaType.ociManifest,
                                                      config: addBlob(Array("{}".utf8), mediaType: "application/vnd.oci.image.config.v1+json"), layers: layers)
        let bytes = Array((try? encoder.encode(manifest)) ?? Data())
        return addManifestBytes(bytes, mediaType: ManifestDocument.MediaType.ociManifest, tag: tag)
    }

    @discardableResult
    func addManifestBytes(_ bytes: [UInt8], mediaType: String, tag: String?) -> String {
        let digest = Self.digest(bytes)
        state.withLock { state in
            state.manifests[digest] = (mediaType, bytes)
            if let tag { state.tags[tag] = digest }
        }
        return digest
    }

    var requests: [RegistryRequest] { state.withLock { $0.requests } }

    func send(_ request: RegistryRequest, sink: BlobSink?) async throws -> RegistryResponse {
        let snapshot = state.withLock { state in
            state.requests.append(request)
            return state
        }
        guard let url = URLComponents(string: request.url), let requestHost = url.host else { throw URLError(.badURL) }
        if url.scheme == "https", !snapshot.speaksTLS { throw FakeFailure(description: "TLS handshake failed: the server speaks plain HTTP") }
        if url.scheme == "http", snapshot.speaksTLS { throw FakeFailure(description: "connection reset by peer") }
        let authorization = request.header("Authorization")

        if requestHost == "auth.test" {
            guard case .bearer(let user, let password) = auth else { return RegistryResponse(status: 404) }
            if let user, let password {
                guard authorization == RegistryCredentials(username: user, password: password).basicAuthorization else {
                    return Self.errors(401, "UNAUTHORIZED", "authentication required")
                }
            }
            let scope = url.queryItems?.first { $0.name == "scope" }?.value
            let service = url.queryItems?.first { $0.name == "service" }?.value
            guard scope == "repository:guest:pull", service == "registry.test" else { return RegistryResponse(status: 400) }
            return RegistryResponse(status: 200, body: Array(#"{"token":"\#(Self.token)","expires_in":300}"#.utf8))
        }
        if requestHost == "storage.test" {
            guard authorization == nil else { return RegistryResponse(status: 400, body: Array("credentials sent to storage".utf8)) }
            return try deliver(blob: String(url.path.dropFirst()), state: snapshot, sink: sink)
        }

        switch auth {
        case .none:
            break
        case .basic(let user, let password):
            guard authorization == RegistryCredentials(username: user, password: password).basicAuthorization else {
                var response = Self.errors(401, "UNAUTHORIZED", "authentication required")
                response.headers["www-authenticate"] = #"Basic realm="Registry Realm""#
                return response
            }
        case .bearer:
            guard authorization == "Bearer \(Self.token)" else {
                var response = Self.errors(401, "UNAUTHORIZED", "authentication required")
                response.headers["www-authenticate"] = #"Bearer realm="https://auth.test/token",service="registry.test",scope="repository:guest:pull""#
                return response
            }
        }
        let path = url.path
        if path == "/v2/" { return RegistryResponse(status: 200, body: Array("{}".utf8)) }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count == 4, parts[0] == "v2" else { return RegistryResponse(status: 404) }
        guard parts[1] == "guest" else { return Self.errors(404, "NAME_UNKNOWN", "repository name not known to registry") }
        switch parts[2] {
        case "manifests":
            let digest = parts[3].hasPrefix("sha256:") ? parts[3] : snapshot.tags[parts[3]]
            guard let digest, let manifest = snapshot.manifests[digest] else { return Self.errors(404, "MANIFEST_UNKNOWN", "manifest unknown") }
            return RegistryResponse(status: 200, headers: ["Content-Type": manifest.mediaType, "Docker-Content-Digest": digest], body: manifest.bytes)
        case "blobs":
            if let redirect = snapshot.blobRedirect { return RegistryResponse(status: 307, headers: ["Location": "\(redirect)/\(parts[3])"]) }
            return try deliver(blob: parts[3], state: snapshot, sink: sink)
        default:
            return RegistryResponse(status: 404)
        }
    }

    func deliver(blob digest: String, state: State, sink: BlobSink?) throws -> RegistryResponse {
        guard var bytes = state.blobs[digest] else { return Self.errors(404, "BLOB_UNKNOWN", "blob unknown to registry") }
        if state.corruptBlobs, !bytes.isEmpty { bytes[0] ^= 0xFF }
        if let sink {
            try sink.write(bytes)
            return RegistryResponse(status: 200)
        }
        return RegistryResponse(status: 200, body: bytes)
    }

    static func errors(_ status: Int, _ code: String, _ message: String) -> RegistryResponse {
        RegistryResponse(status: status, headers: ["Content-Type": "application/json"],
                         body: Array(#"{"errors":[{"code":"\#(code)","message":"\#(message)","detail":null}]}"#.utf8))
    }

    struct FakeFailure: Error, CustomStringConvertible {
        var description: String
    }
}
