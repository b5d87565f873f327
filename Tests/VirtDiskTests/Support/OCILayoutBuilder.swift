import Foundation
import VirtAPI

@testable import VirtDisk

/// Writes an OCI image layout the way `skopeo copy … oci:DIR:TAG` does: `oci-layout`, `index.json` and
/// content-addressed blobs with real sha256 digests.
struct OCILayoutBuilder {
    let directory: String
    /// Where layer trees are staged before they are tarred.
    let scratch: String

    init(directory: String, scratch: String) throws {
        self.directory = directory
        self.scratch = scratch
        try FileManager.default.createDirectory(atPath: "\(directory)/blobs/sha256", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: "\(directory)/oci-layout", contents: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
    }

    struct Blob {
        var digest: String
        var size: Int64
        var path: String
    }

    /// Stores a file as a blob and returns its descriptor fields.
    func addBlob(file: String) async throws -> Blob {
        let hex = try await Tool.sha256(file)
        let path = "\(directory)/blobs/sha256/\(hex)"
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: file, toPath: path)
        return Blob(digest: "sha256:\(hex)", size: Tool.size(path), path: path)
    }

    func addBlob(json: String) async throws -> Blob {
        let file = "\(scratch)/json-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: file, contents: Data(json.utf8))
        return try await addBlob(file: file)
    }

    /// A layer from `files` (path in the image → source file, or nil for an empty whiteout marker).
    func addLayer(_ files: [(String, String?)], gzip: Bool) async throws -> (blob: Blob, mediaType: String) {
        let root = "\(scratch)/layer-\(UUID().uuidString)"
        for (path, source) in files {
            let target = "\(root)/\(path)"
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if let source {
                try FileManager.default.copyItem(atPath: source, toPath: target)
            } else {
                _ = FileManager.default.createFile(atPath: target, contents: Data())
            }
        }
        let tar = "\(root).tar"
        // As docker/buildah write them: relative names, the directory first, qemu's uid like KubeVirt's images.
        try await Tool.run("tar", ["-C", root, "--owner=107", "--group=107", "-cf", tar, "."])
        guard gzip else { return (try await addBlob(file: tar), "application/vnd.oci.image.layer.v1.tar") }
        try await Tool.run("gzip", ["-n", tar])
        return (try await addBlob(file: tar + ".gz"), "application/vnd.oci.image.layer.v1.tar+gzip")
    }

    /// A manifest over `layers` (bottom first), with a config blob.
    func addManifest(layers: [(blob: Blob, mediaType: String)], architecture: String = "amd64") async throws -> Blob {
        let config = try await addBlob(json: #"{"architecture":"\#(architecture)","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#)
        let layerJSON = layers.map {
            #"{"mediaType":"\#($0.mediaType)","digest":"\#($0.blob.digest)","size":\#($0.blob.size)}"#
        }.joined(separator: ",")
        return try await addBlob(json: """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(config.digest)","size":\(config.size)},\
            "layers":[\(layerJSON)]}
            """)
    }

    /// A multi-platform index blob over (manifest, architecture) pairs.
    func addIndex(_ manifests: [(Blob, String)]) async throws -> Blob {
        let entries = manifests.map { blob, architecture in
            #"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(blob.digest)","size":\#(blob.size),"platform":{"architecture":"\#(architecture)","os":"linux"}}"#
        }.joined(separator: ",")
        return try await addBlob(json: #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\#(entries)]}"#)
    }

    /// Writes `index.json` listing `entries` (descriptor, tag, media type).
    func writeIndex(_ entries: [(Blob, String?, String)]) throws {
        let items = entries.map { blob, tag, mediaType in
            let annotations = tag.map { #","annotations":{"org.opencontainers.image.ref.name":"\#($0)"}"# } ?? ""
            return #"{"mediaType":"\#(mediaType)","digest":"\#(blob.digest)","size":\#(blob.size)\#(annotations)}"#
        }.joined(separator: ",")
        _ = FileManager.default.createFile(
            atPath: "\(directory)/index.json", contents: Data(#"{"schemaVersion":2,"manifests":[\#(items)]}"#.utf8))
    }

    static let manifestType = "application/vnd.oci.image.manifest.v1+json"
    static let indexType = "application/vnd.oci.image.index.v1+json"
}
