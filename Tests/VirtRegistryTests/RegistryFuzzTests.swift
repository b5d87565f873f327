import Testing
import VirtTestSupport

@testable import VirtRegistry

/// Every decoder of bytes a registry (or a pull secret) sends: manifests and indexes, `WWW-Authenticate`,
/// token answers, error bodies, Docker configs, references. Each input decodes or is refused with a
/// `RegistryError`; none traps. Bounded and from a fixed seed, so a failure found once is found on every run.
@Suite struct RegistryFuzzTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    static let manifestSeeds: [String] = [
        #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(digest)","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#(digest)","size":10,"annotations":{"a":"b"}}]}"#,
        #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(digest)","size":500,"platform":{"os":"linux","architecture":"amd64","variant":"v2"}},{"digest":"\#(digest)","size":1,"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}"#,
        #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"digest":"\#(digest)","size":5,"platform":{"os":"linux","architecture":"arm64"}}]}"#,
        #"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[{"blobSum":"\#(digest)"}]}"#,
    ]
    static let challengeSeeds = [
        #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#,
        #"Basic realm="Registry Realm", Bearer realm="https://t/x",error="insufficient_scope""#,
    ]
    static let otherSeeds = [
        #"{"token":"abc","access_token":"def","expires_in":300}"#,
        #"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"v2"}}]}"#,
        #"{"auths":{"127.0.0.1:5000":{"auth":"dTpw"},"https://index.docker.io/v1/":{"username":"a","password":"b"}}}"#,
        "quay.io/kubevirt/cirros-container-disk-demo:v1@\(digest)",
    ]
    static let tokens: [[UInt8]] = [
        "{", "}", "[", "]", "\"", ":", ",", "\\", "\\u0000", "\\ud800", "null", "-1", "1e999", "9223372036854775808", "\"\"",
        #""layers":null"#, #""manifests":{}"#, #""size":-5"#, #""digest":"md5:0""#, #""platform":7"#, "Bearer ", "Basic ", "realm=", "=\"",
        "sha256:", "@", "/", "..", "docker://", String(repeating: "[", count: 600),
    ].map { Array($0.utf8) } + [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x00]]

    /// Runs every decoder on `bytes`; each must return or throw a `RegistryError`.
    static func check(_ bytes: [UInt8]) {
        do {
            let document = try ManifestDocument.decode(bytes, contentType: nil, reference: "fuzz")
            if case .index(let index) = document { _ = try? index.select(os: "linux", architecture: "amd64", reference: "fuzz") }
        } catch {
            #expect(!error.description.isEmpty)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for challenge in AuthChallenge.parse(text) { #expect(challenge.scheme == challenge.scheme.lowercased()) }
        _ = try? TokenResponse.decode(bytes, reference: "fuzz")
        _ = RegistryErrorBody.decode(bytes)
        _ = RegistrySession.registryMessage(RegistryResponse(status: 404, body: bytes))
        if let config = try? DockerConfig.parse(bytes, secret: "fuzz"), let reference = try? ImageReference.parse("127.0.0.1:5000/guest") {
            _ = config.credentials(for: reference)
        }
        if let reference = try? ImageReference.parse(text) {
            // What parses prints as a reference that parses to the same thing.
            #expect((try? ImageReference.parse(reference.description)) == reference, "\(text)")
        }
    }

    @Test func mutationsOfRealDocuments() {
        var fuzzer = Fuzzer(seed: 0x5EED_0C1)
        let seeds = (Self.manifestSeeds + Self.challengeSeeds + Self.otherSeeds).map { Array($0.utf8) }
        for seed in seeds { Self.check(seed) }
        for _ in 0..<3000 {
            Self.check(fuzzer.mutate(fuzzer.pick(seeds), tokens: Self.tokens))
        }
    }

    @Test func randomBytes() {
        var fuzzer = Fuzzer(seed: 0xB10B)
        let alphabet = Array(#"{}[]":,\ abcdefsz0123456789=@/.-_"#.utf8)
        for _ in 0..<2000 {
            Self.check(fuzzer.bytes(maxCount: 200, alphabet: alphabet))
        }
    }
}
