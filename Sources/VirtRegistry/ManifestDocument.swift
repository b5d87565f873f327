import Foundation

/// What the manifests endpoint answers: an image manifest (OCI or Docker schema 2) or an index of them
/// (OCI image index or Docker manifest list).
public enum ManifestDocument: Sendable, Equatable {
    case manifest(ImageManifest)
    case index(ImageIndex)

    /// An image manifest: a config and layers, bottom first.
    public struct ImageManifest: Codable, Sendable, Equatable {
        public var schemaVersion: Int?
        public var mediaType: String?
        public var config: ManifestDescriptor?
        public var layers: [ManifestDescriptor]
    }

    /// An image index: one manifest per platform (and attestations beside them).
    public struct ImageIndex: Codable, Sendable, Equatable {
        public var schemaVersion: Int?
        public var mediaType: String?
        public var manifests: [ManifestDescriptor]
    }

    /// The media types asked for in `Accept`, most wanted first.
    public static let acceptedMediaTypes = [
        MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList,
    ]

    public enum MediaType {
        public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
        public static let ociIndex = "application/vnd.oci.image.index.v1+json"
        public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
        public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
        static let dockerSchema1 = ["application/vnd.docker.distribution.manifest.v1+json", "application/vnd.docker.distribution.manifest.v1+prettyjws"]
    }

    /// Decodes a manifest body; `contentType` is the answer's `Content-Type` (the body's own `mediaType`
    /// wins when it has one). `reference` names the image in errors.
    public static func decode(_ bytes: [UInt8], contentType: String?, reference: String) throws(RegistryError) -> ManifestDocument {
        let declared = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        struct Probe: Decodable {
            var schemaVersion: Int?
            var mediaType: String?
            var manifests: [ManifestDescriptor]?
            var layers: [ManifestDescriptor]?
        }
        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: Data(bytes))
        } catch {
            throw .invalidResponse(reference: reference, detail: "the manifest is not valid JSON of a manifest or index (\(Self.summary(of: error)))")
        }
        let mediaType = probe.mediaType ?? declared ?? ""
        if MediaType.dockerSchema1.contains(mediaType) || probe.schemaVersion == 1 {
            throw .unsupportedManifest(reference: reference, mediaType: mediaType.isEmpty ? "schema 1" : mediaType)
        }
        if let manifests = probe.manifests {
            guard [MediaType.ociIndex, MediaType.dockerManifestList, ""].contains(mediaType) || probe.layers == nil else {
                throw .unsupportedManifest(reference: reference, mediaType: mediaType)
            }
            try checkDescriptors(manifests, reference: reference)
            return .index(ImageIndex(schemaVersion: probe.schemaVersion, mediaType: probe.mediaType, manifests: manifests))
        }
        if let layers = probe.layers {
            guard [MediaType.ociManifest, MediaType.dockerManifest, ""].contains(mediaType) else {
                throw .unsupportedManifest(reference: reference, mediaType: mediaType)
            }
            try checkDescriptors(layers, reference: reference)
            let manifest: ImageManifest
            do {
                manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(bytes))
            } catch {
                throw .invalidResponse(reference: reference, detail: "the manifest does not decode (\(Self.summary(of: error)))")
            }
            return .manifest(manifest)
        }
        throw .unsupportedManifest(reference: reference, mediaType: mediaType.isEmpty ? "unknown (no layers, no manifests)" : mediaType)
    }

    /// Digests this client can verify and sizes that are not negative.
    static func checkDescriptors(_ descriptors: [ManifestDescriptor], reference: String) throws(RegistryError) {
        for descriptor in descriptors {
            guard ImageReference.isDigest(descriptor.digest) else {
                throw .invalidResponse(reference: reference, detail: "descriptor digest \"\(descriptor.digest.prefix(80))\" is not sha256 or sha512")
            }
            guard descriptor.size >= 0 else {
                throw .invalidResponse(reference: reference, detail: "descriptor \(descriptor.digest) has a negative size")
            }
        }
    }

    static func summary(of error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "malformed JSON"
        }
    }
}

extension ManifestDocument.ImageIndex {
    /// The manifest for `platform` (`linux/amd64`): an exact os/architecture match, the one without a
    /// variant or the lowest variant first; attestation manifests (`vnd.docker.reference.type`) never.
    public func select(os: String, architecture: String, reference: String) throws(RegistryError) -> ManifestDescriptor {
        let images = manifests.filter { $0.annotations?["vnd.docker.reference.type"] == nil }
        let matching = images.filter { $0.platform?.os == os && $0.platform?.architecture == architecture }
        if let best = matching.min(by: { ($0.platform?.variant ?? "") < ($1.platform?.variant ?? "") }) { return best }
        if images.count == 1, let only = images.first, only.platform == nil { return only }
        throw .noPlatform(reference: reference, wanted: "\(os)/\(architecture)", available: images.compactMap { $0.platform?.description })
    }
}
