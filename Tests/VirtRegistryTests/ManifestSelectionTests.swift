import Testing

@testable import VirtRegistry

/// Manifests and indexes as registries serve them, and the platform picked from an index.
@Suite struct ManifestSelectionTests {
    static let d1 = "sha256:" + String(repeating: "1", count: 64)
    static let d2 = "sha256:" + String(repeating: "2", count: 64)
    static let d3 = "sha256:" + String(repeating: "3", count: 64)
    static let d4 = "sha256:" + String(repeating: "4", count: 64)

    static func index(_ entries: [(String, String, String?, [String: String]?)], mediaType: String = ManifestDocument.MediaType.ociIndex) -> [UInt8] {
        let manifests = entries.map { digest, platform, variant, annotations in
            let parts = platform.split(separator: "/")
            var text = #"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(digest)","size":500,"platform":{"os":"\#(parts[0])","architecture":"\#(parts[1])""#
            if let variant { text += #","variant":"\#(variant)""# }
            text += "}"
            if let annotations { text += #","annotations":{"# + annotations.map { #""\#($0)":"\#($1)""# }.joined(separator: ",") + "}" }
            return text + "}"
        }
        return Array(#"{"schemaVersion":2,"mediaType":"\#(mediaType)","manifests":[\#(manifests.joined(separator: ","))]}"#.utf8)
    }

    @Test func anIndexGivesTheManifestOfThisPlatform() throws {
        let bytes = Self.index([
            (Self.d1, "linux/arm64", "v8", nil), (Self.d2, "linux/amd64", nil, nil), (Self.d3, "unknown/unknown", nil, ["vnd.docker.reference.type": "attestation-manifest"]),
            (Self.d4, "windows/amd64", nil, nil),
        ])
        guard case .index(let index) = try ManifestDocument.decode(bytes, contentType: nil, reference: "r") else {
            Issue.record("not an index")
            return
        }
        #expect(try index.select(os: "linux", architecture: "amd64", reference: "r").digest == Self.d2)
        #expect(try index.select(os: "linux", architecture: "arm64", reference: "r").digest == Self.d1)
        #expect(throws: RegistryError.noPlatform(reference: "r", wanted: "linux/s390x", available: ["linux/arm64/v8", "linux/amd64", "windows/amd64"])) {
            try index.select(os: "linux", architecture: "s390x", reference: "r")
        }
    }

    @Test func aDockerManifestListAndTheLowestVariant() throws {
        let bytes = Self.index([(Self.d1, "linux/arm", "v7", nil), (Self.d2, "linux/arm", "v6", nil)], mediaType: ManifestDocument.MediaType.dockerManifestList)
        guard case .index(let index) = try ManifestDocument.decode(bytes, contentType: ManifestDocument.MediaType.dockerManifestList, reference: "r") else {
            Issue.record("not an index")
            return
        }
        #expect(try index.select(os: "linux", architecture: "arm", reference: "r").digest == Self.d2)
    }

    @Test func manifestsOfBothKinds() throws {
        for mediaType in [ManifestDocument.MediaType.ociManifest, ManifestDocument.MediaType.dockerManifest] {
            let bytes = Array(#"""
                {"schemaVersion":2,"mediaType":"\#(mediaType)","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(Self.d1)","size":2},
                 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#(Self.d2)","size":10},
                           {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\#(Self.d3)","size":20}]}
                """#.utf8)
            guard case .manifest(let manifest) = try ManifestDocument.decode(bytes, contentType: nil, reference: "r") else {
                Issue.record("not a manifest")
                return
            }
            #expect(manifest.layers.map(\.digest) == [Self.d2, Self.d3])
            #expect(manifest.config?.digest == Self.d1)
        }
        // The media type may come from Content-Type alone (OCI manifests need not carry it).
        let bare = Array(#"{"schemaVersion":2,"layers":[]}"#.utf8)
        guard case .manifest = try ManifestDocument.decode(bare, contentType: "application/vnd.oci.image.manifest.v1+json; charset=utf-8", reference: "r") else {
            Issue.record("not a manifest")
            return
        }
    }

    @Test func whatCannotBePulledIsRefusedWithWhy() {
        #expect(throws: RegistryError.unsupportedManifest(reference: "r", mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws")) {
            try ManifestDocument.decode(Array(#"{"schemaVersion":1,"fsLayers":[]}"#.utf8), contentType: "application/vnd.docker.distribution.manifest.v1+prettyjws", reference: "r")
        }
        #expect(throws: RegistryError.self) { try ManifestDocument.decode(Array("not json".utf8), contentType: nil, reference: "r") }
        #expect(throws: RegistryError.self) { try ManifestDocument.decode(Array(#"{"layers":[{"digest":"md5:00","size":1}]}"#.utf8), contentType: nil, reference: "r") }
        #expect(throws: RegistryError.self) { try ManifestDocument.decode(Array(#"{"layers":[{"digest":"\#(Self.d1)","size":-1}]}"#.utf8), contentType: nil, reference: "r") }
        #expect(throws: RegistryError.self) { try ManifestDocument.decode(Array(#"{"config":{}}"#.utf8), contentType: nil, reference: "r") }
    }
}
