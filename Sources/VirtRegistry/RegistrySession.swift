import Foundation

/// Talks the OCI distribution API to one repository of one registry for one pull: finds how to reach it
/// (HTTPS; plain HTTP too for a registry on loopback, as Docker and containerd allow), authenticates as
/// its challenge asks (a bearer token from its token service, or basic auth), and fetches manifests and
/// blobs, each checked against its digest.
public actor RegistrySession {
    public let reference: ImageReference
    let credentials: RegistryCredentials?
    let transport: any RegistryTransport
    /// `https://host` or, for loopback, maybe `http://host`; found by the first request.
    var base: String?
    /// The `Authorization` header the registry accepted (or asked for).
    var authorization: String?

    public init(reference: ImageReference, credentials: RegistryCredentials?, transport: any RegistryTransport = HTTPRegistryTransport.shared) {
        self.reference = reference
        self.credentials = credentials
        self.transport = transport
    }

    /// A manifest (or index) as fetched: its bytes, media type and digest (computed from the bytes).
    public struct FetchedManifest: Sendable, Equatable {
        public var bytes: [UInt8]
        public var mediaType: String?
        public var digest: String
        public var document: ManifestDocument
    }

    /// GETs the manifest `tagOrDigest` (the reference's own when nil). A digest is verified against the
    /// bytes; a tag's digest is the bytes' sha256 (which the registry's `Docker-Content-Digest` must agree with).
    public func manifest(_ tagOrDigest: String? = nil) async throws(RegistryError) -> FetchedManifest {
        let wanted = tagOrDigest ?? reference.manifestReference
        let name = ImageReference(registry: reference.registry, repository: reference.repository,
                                  tag: ImageReference.isDigest(wanted) ? nil : wanted, digest: ImageReference.isDigest(wanted) ? wanted : nil)
        let accept = ManifestDocument.acceptedMediaTypes.joined(separator: ", ")
        let response = try await send(path: "/v2/\(reference.repository)/manifests/\(wanted)", headers: [("Accept", accept)], sink: nil, what: name.description)
        let algorithm = ImageReference.isDigest(wanted) ? String(wanted.prefix { $0 != ":" }) : "sha256"
        let digest = Self.digest(of: response.body, algorithm: algorithm)
        if ImageReference.isDigest(wanted), digest != wanted {
            throw .digestMismatch(reference: name.description, expected: wanted, actual: digest)
        }
        if !ImageReference.isDigest(wanted), let header = response.headers["docker-content-digest"], header.hasPrefix("sha256:"), header != digest {
            throw .digestMismatch(reference: name.description, expected: header, actual: digest)
        }
        let contentType = response.headers["content-type"]
        let document = try ManifestDocument.decode(response.body, contentType: contentType, reference: name.description)
        return FetchedManifest(bytes: response.body, mediaType: contentType, digest: digest, document: document)
    }

    /// GETs the blob `descriptor` into a new file at `path`, verified against its digest and size (a
    /// negative size: unknown); a file that fails the check is removed.
    public func blob(_ descriptor: ManifestDescriptor, to path: String) async throws(RegistryError) {
        let what = "\(reference.registry)/\(reference.repository)@\(descriptor.digest)"
        let sink: BlobSink
        do {
            sink = try BlobSink(path: path)
        } catch {
            throw .failed(reference: what, status: 0, message: "\(error)")
        }
        do throws(RegistryError) {
            _ = try await send(path: "/v2/\(reference.repository)/blobs/\(descriptor.digest)", headers: [], sink: sink, what: what)
            let algorithm = String(descriptor.digest.prefix { $0 != ":" })
            let written: (count: Int64, digest: String)
            do {
                written = try sink.finish(algorithm: algorithm)
            } catch {
                throw RegistryError.failed(reference: what, status: 0, message: "\(error)")
            }
            guard written.digest == descriptor.digest else {
                throw RegistryError.digestMismatch(reference: what, expected: descriptor.digest, actual: written.digest)
            }
            guard descriptor.size < 0 || written.count == descriptor.size else {
                throw RegistryError.invalidResponse(reference: what, detail: "the blob has \(written.count) bytes, its descriptor says \(descriptor.size)")
            }
        } catch {
            _ = try? sink.finish(algorithm: "sha256")
            unlink(path)
            throw error
        }
    }

    static func digest(of bytes: [UInt8], algorithm: String) -> String { ContentDigest.of(bytes, algorithm: algorithm) }
}
