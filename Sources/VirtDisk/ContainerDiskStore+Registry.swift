import Crypto
import Foundation
import VirtAPI
import VirtRegistry

/// Pulling a containerDisk from a registry into the cache's OCI layout, by digest.
extension ContainerDiskStore {
    /// The OCI layout registry pulls share: `<cache>/registry` (`oci-layout`, `blobs/sha256/<hex>`).
    var registryLayout: String { "\(cacheDirectory)/registry" }

    /// The pull policy KubeVirt gives a containerDisk that names none: `Always` for `:latest` (or no tag,
    /// which is latest), `IfNotPresent` for any other tag or a digest.
    static func effectivePullPolicy(_ policy: String?, for reference: ImageReference) -> String {
        if let policy, !policy.isEmpty { return policy }
        return reference.digest == nil && reference.tag == "latest" ? "Always" : "IfNotPresent"
    }

    func resolveRegistry(_ reference: ImageReference, path: String?, image: String, credentials: RegistryCredentials?,
                         pullPolicy: String?) async throws -> ContainerDiskImage {
        let layout = registryLayout
        let policy = Self.effectivePullPolicy(pullPolicy, for: reference)
        guard ["Always", "IfNotPresent", "Never"].contains(policy) else {
            throw ContainerDiskError.pullFailed(image: image, error: .invalidReference(
                reference: image, detail: "imagePullPolicy \(policy) is not one of Always, IfNotPresent, Never"))
        }
        try FileSystem.makeDirectory("\(layout)/blobs/sha256")
        try FileSystem.makeDirectory("\(layout)/blobs/sha512")
        try FileSystem.makeDirectory("\(layout)/refs")
        if FileSystem.kind("\(layout)/oci-layout") == nil {
            try Self.writeAtomically("\(layout)/oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        }
        let session = RegistrySession(reference: reference, credentials: credentials, transport: registryTransport)
        func pulling<T>(_ body: () async throws(RegistryError) -> T) async throws -> T {
            do {
                return try await body()
            } catch {
                throw ContainerDiskError.pullFailed(image: image, error: error)
            }
        }

        // The manifest for this node. `Always` asks the registry for the reference's manifest every time
        // (a tag may have moved); `IfNotPresent` and `Never` use the digest a tag had when it was last
        // pulled here. Manifests named by digest come from the layout when they are stored. An index is
        // followed to linux/<architecture>.
        let record = "\(layout)/refs/\(BlobSink.hex(SHA256.hash(data: Array(reference.description.utf8))))"
        var digest = reference.digest
        if policy != "Always", digest == nil, let recorded = try? FileSystem.read(record) {
            digest = String(decoding: recorded, as: UTF8.self)
        }
        var askRegistry = policy == "Always"
        var document: ManifestDocument?
        for _ in 0..<4 {
            if !askRegistry, let known = digest, let stored = try await storedManifest(known, layout: layout) {
                document = stored
            } else {
                guard policy != "Never" else { throw ContainerDiskError.neverPull(image: image) }
                let fetched = try await pulling { () async throws(RegistryError) in try await session.manifest(digest) }
                try store(fetched.bytes, digest: fetched.digest, layout: layout)
                if digest == nil { try Self.writeAtomically(record, Array(fetched.digest.utf8)) }
                digest = fetched.digest
                document = fetched.document
            }
            askRegistry = false
            guard case .index(let index) = document else { break }
            let chosen = try await pulling { () throws(RegistryError) in
                try index.select(os: "linux", architecture: architecture, reference: reference.description)
            }
            digest = chosen.digest
            document = nil
        }
        guard let digest, case .manifest = document else {
            throw ContainerDiskError.pullFailed(image: image, error: .invalidResponse(reference: reference.description, detail: "image indexes nest too deeply"))
        }

        let descriptor = try Descriptor(["digest": .string(digest)], layout: layout)
        return try await resolveImage(descriptor, layout: layout, path: path, image: image) { layers in
            // Only what the layout lacks is pulled; a blob already there is checked by the extraction.
            var fetched: Set<String> = []
            for layer in layers {
                let target = try blobFile(layer.digest, layout: layout)
                if FileSystem.kind(target) == .regular, FileSystem.size(target) == layer.size { continue }
                guard policy != "Never" else { throw ContainerDiskError.neverPull(image: image) }
                let partial = "\(target).partial-\(FileSystem.uniqueSuffix())"
                let wanted = ManifestDescriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size ?? -1)
                try await pulling { () async throws(RegistryError) in try await session.blob(wanted, to: partial) }
                try FileSystem.rename(partial, target)
                fetched.insert(layer.digest)
            }
            return fetched
        }
    }

    /// The stored manifest `digest`, when the layout has it and its bytes still match.
    func storedManifest(_ digest: String, layout: String) async throws -> ManifestDocument? {
        let path = try blobFile(digest, layout: layout)
        guard FileSystem.kind(path) == .regular, let bytes = try? FileSystem.read(path) else { return nil }
        guard (try? await verifyDigests([(path, digest)], layout: layout)) != nil else {
            try? FileSystem.remove(path)
            return nil
        }
        return try? ManifestDocument.decode(bytes, contentType: nil, reference: digest)
    }

    /// Writes a verified manifest into the layout under its digest.
    func store(_ bytes: [UInt8], digest: String, layout: String) throws {
        let path = try blobFile(digest, layout: layout)
        if FileSystem.kind(path) == .regular { return }
        try Self.writeAtomically(path, bytes)
    }

    /// Writes `bytes` to a new file beside `path` and renames it over `path`: a reader never sees half of it.
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let partial = "\(path).partial-\(FileSystem.uniqueSuffix())"
        guard FileManager.default.createFile(atPath: partial, contents: Data(bytes)) else {
            throw POSIXFailure(operation: "create", path: partial, code: errno)
        }
        try FileSystem.rename(partial, path)
    }

    /// `blobs/<algorithm>/<hex>` of `digest` in `layout`.
    func blobFile(_ digest: String, layout: String) throws -> String {
        guard ImageReference.isDigest(digest) else {
            throw ContainerDiskError.invalidLayout(path: layout, detail: "unsupported digest \(digest)")
        }
        let parts = digest.split(separator: ":", maxSplits: 1)
        return "\(layout)/blobs/\(parts[0])/\(parts[1])"
    }
}
