import Foundation
import VirtAPI
import VirtError
import VirtStore

/// The request pipeline: authentication, then discovery/OpenAPI/health or a resource handler; every
/// failure becomes a Kubernetes `Status`.
public struct APIRouter: Sendable {
    public let handler: ResourceHandler
    let authenticator: Authenticator
    let discovery: Discovery
    let openAPI: OpenAPICatalog
    let definitions: CustomResourceDefinitions
    /// How the server reaches node agents (console, VNC, exec, pause …); `nil` without credentials for them.
    let streams: (any NodeStreams)?
    /// Issues and checks the tokens of CDI's upload proxy paths.
    let uploadTokens: UploadTokenSigner

    /// The Kubernetes version reported on /version (kubectl picks its client version from it).
    public static let kubernetesVersion = (major: "1", minor: "32", git: "v1.32.0-swiftvirt")

    public init(store: any RevisionedStore, registry: Registry = .standard, tokens: Set<String>?, streams: (any NodeStreams)? = nil,
                uploadTokens: UploadTokenSigner = .random()) {
        handler = ResourceHandler(store: store, registry: registry)
        self.streams = streams
        self.uploadTokens = uploadTokens
        authenticator = Authenticator(tokens: tokens)
        let served = Self.served(registry)
        discovery = Discovery(registry: served)
        openAPI = OpenAPICatalog(registry: served)
        definitions = CustomResourceDefinitions(registry: registry, handler: handler)
    }

    /// What discovery and OpenAPI list: the registry's kinds and the read-only CustomResourceDefinitions
    /// that describe its custom ones.
    static func served(_ registry: Registry) -> Registry {
        Registry(types: registry.types + [.customResourceDefinition])
    }

    /// Handles one request; never throws.
    public func respond(_ request: APIRequest, authorization: String?) async -> APIResponse {
        do {
            let segments = request.path.split(separator: "/", omittingEmptySubsequences: true)
            if !Self.publicPaths.contains(request.path) {
                try authenticator.authenticate(authorization)
            }
            return try await route(request, segments: segments)
        } catch let error as VirtError {
            return .error(error)
        } catch {
            return .error(VirtError.internalError("\(error)"))
        }
    }

    static let publicPaths: Set<String> = ["/version", "/healthz", "/readyz", "/livez", "/version/"]

    /// Authenticates and resolves a websocket request on a stream path; `nil` when it must not upgrade
    /// (the ordinary responder then answers with the reason).
    func openStream(path: String, query: [(String, String)], authorization: String?, offered: [String]) async -> (StreamEndpoint.Target, String?)? {
        do {
            try authenticator.authenticate(authorization)
            let target = try await StreamEndpoint(handler: handler, streams: streams).resolve(path: path, query: query)
            guard case .accept(let subprotocol) = StreamEndpoint.negotiate(target, offered: offered) else { return nil }
            return (target, subprotocol)
        } catch {
            return nil
        }
    }

    func route(_ request: APIRequest, segments: [Substring]) async throws -> APIResponse {
        if StreamEndpoint.matches(segments) {
            return try await StreamEndpoint(handler: handler, streams: streams).plainResponse(request)
        }
        if VirtSubresources.matches(segments) {
            return try await VirtSubresources(handler: handler, streams: streams).handle(request, segments: segments)
        }
        if UploadTokenRequests.matches(segments) {
            return try UploadTokenRequests(signer: uploadTokens, now: { Date() }).handle(request, segments: segments)
        }
        if CustomResourceDefinitions.matches(segments) {
            return try definitions.handle(request, segments: segments)
        }
        if let target = try RequestTarget.parse(segments, registry: handler.registry) {
            return try await handler.handle(request, target: target)
        }
        guard request.method == "GET" else {
            throw VirtError(.methodNotAllowed, "the server does not allow this method on the requested resource")
        }
        switch segments.map(String.init) {
        case ["version"]:
            return .json([
                "major": .string(Self.kubernetesVersion.major), "minor": .string(Self.kubernetesVersion.minor),
                "gitVersion": .string(Self.kubernetesVersion.git), "gitCommit": "", "gitTreeState": "clean",
                "buildDate": "2026-11-26T00:00:00Z", "goVersion": "swift6", "compiler": "swiftc", "platform": "linux/amd64",
            ])
        case ["healthz"], ["readyz"], ["livez"]:
            return APIResponse(status: 200, contentType: "text/plain", body: .bytes(Array("ok".utf8)))
        case ["api"]:
            if let version = Discovery.aggregatedVersion(accept: request.accept) {
                return aggregated(discovery.aggregated(core: true, version: version), version: version)
            }
            return .json(discovery.apiVersions())
        case ["apis"]:
            if let version = Discovery.aggregatedVersion(accept: request.accept) {
                return aggregated(discovery.aggregated(core: false, version: version), version: version)
            }
            return .json(discovery.groupList())
        case let path where path.count == 2 && path[0] == "apis":
            guard let entry = discovery.groups().first(where: { $0.name == path[1] }) else { throw notFound() }
            return .json(discovery.group(entry.name, versions: entry.versions))
        case let path where path.count == 2 && path[0] == "api":
            guard let list = discovery.resourceList(group: "", version: path[1]) else { throw notFound() }
            return .json(list)
        case let path where path.count == 3 && path[0] == "apis":
            guard let list = discovery.resourceList(group: path[1], version: path[2]) else { throw notFound() }
            return .json(list)
        case ["openapi", "v2"]:
            if OpenAPIV2Protobuf.accepted(by: request.accept) {
                return APIResponse(status: 200, contentType: OpenAPIV2Protobuf.mediaType, body: .bytes(openAPI.swaggerProtobuf))
            }
            return APIResponse(status: 200, body: .bytes(openAPI.swaggerJSON))
        case ["openapi", "v3"]:
            return APIResponse(status: 200, body: .bytes(openAPI.index))
        case let path where path.count >= 4 && path[0] == "openapi" && path[1] == "v3":
            guard let document = openAPI.documents[path[2...].joined(separator: "/")] else { throw notFound() }
            return APIResponse(status: 200, body: .bytes(document))
        default:
            throw notFound()
        }
    }

    /// The upload proxy paths' handler (they authenticate with upload tokens, not the cluster's).
    var uploadProxy: UploadProxy {
        UploadProxy(store: handler.store, registry: handler.registry, signer: uploadTokens, uploads: streams as? any VolumeUploads)
    }

    func aggregated(_ value: JSONValue, version: String) -> APIResponse {
        APIResponse(status: 200, contentType: "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList",
                    body: .bytes(value.serializedBytes()))
    }

    func notFound() -> VirtError {
        VirtError(.notFound, "the server could not find the requested resource")
    }
}

/// Bearer-token authentication (RBAC comes later as the next stage).
struct Authenticator: Sendable {
    /// `nil`: authentication is off (in-memory tests only).
    let tokens: Set<String>?

    func authenticate(_ authorization: String?) throws {
        guard let tokens else { return }
        guard let authorization, let presented = Self.bearerToken(authorization),
              tokens.contains(where: { Self.sameBytes($0.utf8, presented) })
        else {
            throw VirtError(.unauthorized, "Unauthorized: send a valid bearer token (see the kubeconfig the daemon wrote in its data directory)")
        }
    }

    /// The token of `Bearer TOKEN`, without surrounding spaces or tabs.
    static func bearerToken(_ header: String) -> Substring.UTF8View? {
        let bytes = header.utf8
        guard bytes.starts(with: "Bearer ".utf8) else { return nil }
        var token = Substring(header).utf8.dropFirst(7)
        while let first = token.first, first == 0x20 || first == 0x09 { token = token.dropFirst() }
        while let last = token.last, last == 0x20 || last == 0x09 { token = token.dropLast() }
        return token.isEmpty ? nil : token
    }

    /// Compares in time that depends on the lengths only, not on where the bytes first differ.
    static func sameBytes(_ expected: String.UTF8View, _ presented: Substring.UTF8View) -> Bool {
        guard expected.count == presented.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, presented) { difference |= a ^ b }
        return difference == 0
    }
}
