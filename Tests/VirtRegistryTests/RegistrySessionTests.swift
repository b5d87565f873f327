import Foundation
import Testing
import VirtTestSupport

@testable import VirtRegistry

/// The distribution API's flows against a registry in memory: anonymous, basic and bearer auth, redirects,
/// loopback plain HTTP, digests checked, and the registry's own words in every failure.
@Suite struct RegistrySessionTests {
    static let layerBytes = Array("a layer's bytes".utf8)

    static func reference(_ text: String = "registry.test/guest:v1") throws -> ImageReference { try ImageReference.parse(text) }

    @Test func anAnonymousPullOfATagAndItsBlob() async throws {
        let registry = FakeRegistry()
        let layer = registry.addBlob(Self.layerBytes)
        let digest = registry.addManifest(layers: [layer], tag: "v1")
        let session = RegistrySession(reference: try Self.reference(), credentials: nil, transport: registry)
        let manifest = try await session.manifest()
        #expect(manifest.digest == digest)
        guard case .manifest(let image) = manifest.document else {
            Issue.record("not a manifest")
            return
        }
        #expect(image.layers == [layer])
        let dir = try TemporaryDirectory(prefix: "registry")
        try await session.blob(layer, to: dir.path + "/blob")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: dir.path + "/blob"))) == Self.layerBytes)
        let first = registry.requests.first
        #expect(first?.url == "https://registry.test/v2/")
        #expect(registry.requests.dropFirst().first?.header("Accept")?.contains(ManifestDocument.MediaType.ociIndex) == true)
        #expect(registry.requests.dropFirst().first?.header("Accept")?.contains(ManifestDocument.MediaType.dockerManifest) == true)
    }

    @Test func theBearerTokenFlowSendsTheCredentialsToTheTokenServiceOnly() async throws {
        let registry = FakeRegistry(auth: .bearer(user: "tester", password: "secret"))
        let layer = registry.addBlob(Self.layerBytes)
        registry.addManifest(layers: [layer], tag: "v1")
        let credentials = RegistryCredentials(username: "tester", password: "secret")
        let session = RegistrySession(reference: try Self.reference(), credentials: credentials, transport: registry)
        _ = try await session.manifest()
        let dir = try TemporaryDirectory(prefix: "registry")
        try await session.blob(layer, to: dir.path + "/blob")
        let requests = registry.requests
        let tokenRequests = requests.filter { $0.url.hasPrefix("https://auth.test/") }
        #expect(tokenRequests.count == 1)
        #expect(tokenRequests.first?.header("Authorization") == credentials.basicAuthorization)
        #expect(tokenRequests.first?.url.contains("scope=repository:guest:pull") == true)
        let registryRequests = requests.filter { $0.url.hasPrefix("https://registry.test/") && $0.url != "https://registry.test/v2/" }
        #expect(registryRequests.count == 2)
        #expect(registryRequests.allSatisfy { $0.header("Authorization") == "Bearer \(FakeRegistry.token)" })
    }

    @Test func anAnonymousTokenAndAWrongPasswordWithTheRegistrysWords() async throws {
        let anonymous = FakeRegistry(auth: .bearer(user: nil, password: nil))
        anonymous.addManifest(layers: [], tag: "v1")
        _ = try await RegistrySession(reference: try Self.reference(), credentials: nil, transport: anonymous).manifest()

        let registry = FakeRegistry(auth: .bearer(user: "tester", password: "secret"))
        registry.addManifest(layers: [], tag: "v1")
        let wrong = RegistrySession(reference: try Self.reference(), credentials: RegistryCredentials(username: "tester", password: "nope"), transport: registry)
        await #expect(throws: RegistryError.denied(reference: "registry.test/guest:v1", status: 401, message: "UNAUTHORIZED: authentication required",
                                                   withCredentials: true)) {
            try await wrong.manifest()
        }
    }

    @Test func basicAuthAndItsRefusal() async throws {
        let registry = FakeRegistry(auth: .basic(user: "tester", password: "secret"))
        registry.addManifest(layers: [], tag: "v1")
        let good = RegistrySession(reference: try Self.reference(), credentials: RegistryCredentials(username: "tester", password: "secret"), transport: registry)
        _ = try await good.manifest()
        #expect(registry.requests.last?.header("Authorization") == RegistryCredentials(username: "tester", password: "secret").basicAuthorization)

        let wrong = RegistrySession(reference: try Self.reference(), credentials: RegistryCredentials(username: "tester", password: "nope"), transport: registry)
        await #expect(throws: RegistryError.denied(reference: "registry.test/guest:v1", status: 401, message: "UNAUTHORIZED: authentication required",
                                                   withCredentials: true)) {
            try await wrong.manifest()
        }
        let none = RegistrySession(reference: try Self.reference(), credentials: nil, transport: registry)
        do {
            _ = try await none.manifest()
            Issue.record("pulled without credentials")
        } catch {
            #expect(error == .denied(reference: "registry.test/guest", status: 401, message: "UNAUTHORIZED: authentication required", withCredentials: false)
                || error.description.contains("imagePullSecret"))
        }
    }

    @Test func missingTagsRepositoriesAndBlobsSayWhatTheRegistrySaid() async throws {
        let registry = FakeRegistry()
        registry.addManifest(layers: [], tag: "v1")
        await #expect(throws: RegistryError.notFound(reference: "registry.test/guest:v2", message: "MANIFEST_UNKNOWN: manifest unknown")) {
            try await RegistrySession(reference: try Self.reference("registry.test/guest:v2"), credentials: nil, transport: registry).manifest()
        }
        await #expect(throws: RegistryError.notFound(reference: "registry.test/nothing:v1", message: "NAME_UNKNOWN: repository name not known to registry")) {
            try await RegistrySession(reference: try Self.reference("registry.test/nothing:v1"), credentials: nil, transport: registry).manifest()
        }
        let dir = try TemporaryDirectory(prefix: "registry")
        let missing = ManifestDescriptor(digest: FakeRegistry.digest([1, 2, 3]), size: 3)
        await #expect(throws: RegistryError.notFound(reference: "registry.test/guest@\(missing.digest)", message: "BLOB_UNKNOWN: blob unknown to registry")) {
            try await RegistrySession(reference: try Self.reference(), credentials: nil, transport: registry).blob(missing, to: dir.path + "/b")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/b"))
        let message = RegistryError.notFound(reference: "registry.test/guest:v2", message: "MANIFEST_UNKNOWN: manifest unknown").description
        #expect(message == "pulling registry.test/guest:v2: not found: MANIFEST_UNKNOWN: manifest unknown")
    }

    @Test func aCorruptBlobIsRefusedAndRemoved() async throws {
        let registry = FakeRegistry()
        let layer = registry.addBlob(Self.layerBytes)
        registry.state.withLock { $0.corruptBlobs = true }
        let dir = try TemporaryDirectory(prefix: "registry")
        let session = RegistrySession(reference: try Self.reference(), credentials: nil, transport: registry)
        do {
            try await session.blob(layer, to: dir.path + "/blob")
            Issue.record("a corrupt blob was accepted")
        } catch {
            guard case .digestMismatch(_, let expected, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(expected == layer.digest)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/blob"))
    }

    @Test func aManifestByDigestIsVerified() async throws {
        let registry = FakeRegistry()
        let digest = registry.addManifest(layers: [], tag: "v1")
        let session = RegistrySession(reference: try Self.reference("registry.test/guest@\(digest)"), credentials: nil, transport: registry)
        #expect(try await session.manifest().digest == digest)
        // The registry serves other bytes under that digest.
        registry.state.withLock { $0.manifests[digest]?.bytes += Array(" ".utf8) }
        await #expect(throws: RegistryError.self) { try await session.manifest() }
    }

    @Test func aRedirectedBlobGoesToStorageWithoutTheCredentials() async throws {
        let registry = FakeRegistry(auth: .basic(user: "u", password: "p"))
        let layer = registry.addBlob(Self.layerBytes)
        registry.state.withLock { $0.blobRedirect = "https://storage.test" }
        let dir = try TemporaryDirectory(prefix: "registry")
        let session = RegistrySession(reference: try Self.reference(), credentials: RegistryCredentials(username: "u", password: "p"), transport: registry)
        try await session.blob(layer, to: dir.path + "/blob")
        let storage = registry.requests.filter { $0.url.hasPrefix("https://storage.test/") }
        #expect(storage.count == 1 && storage.first?.header("Authorization") == nil)
    }

    @Test func aLoopbackRegistryWithoutTLSIsSpokenToInPlainHTTP() async throws {
        let registry = FakeRegistry(host: "127.0.0.1:5000")
        registry.state.withLock { $0.speaksTLS = false }
        registry.addManifest(layers: [], tag: "v1")
        let session = RegistrySession(reference: try Self.reference("127.0.0.1:5000/guest:v1"), credentials: nil, transport: registry)
        _ = try await session.manifest()
        #expect(registry.requests.map(\.url) == ["https://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/v2/guest/manifests/v1"])

        // Anywhere else, TLS or nothing.
        let remote = FakeRegistry()
        remote.state.withLock { $0.speaksTLS = false }
        await #expect(throws: RegistryError.unreachable(registry: "registry.test", detail: "TLS handshake failed: the server speaks plain HTTP")) {
            try await RegistrySession(reference: try Self.reference(), credentials: nil, transport: remote).manifest()
        }
    }

    @Test func anUnreachableLoopbackRegistrySaysWhatEachSchemeGot() async throws {
        let session = RegistrySession(reference: try Self.reference("127.0.0.1:1/guest:v1"), credentials: nil, transport: HTTPRegistryTransport.shared)
        do {
            _ = try await session.manifest()
            Issue.record("port 1 answered")
        } catch {
            guard case .unreachable(let registry, let detail) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(registry == "127.0.0.1:1")
            #expect(detail.contains("https: ") && detail.contains("http: "), "\(detail)")
        }
    }
}
