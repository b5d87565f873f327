import Foundation
import Synchronization
import Testing
import VirtRegistry

@testable import VirtDisk

/// containerDisks pulled from a registry (played in memory by `LayoutRegistry` over an OCI layout built
/// with real tar and gzip): the disk lands in the cache once, by digest, and the pull policy decides who
/// asks the registry again.
@Suite struct ContainerDiskStoreRegistryTests {
    /// Serves the blobs of an OCI layout over the distribution API (`/v2/guest/…`), tags from its
    /// `index.json`, and records every request.
    final class LayoutRegistry: RegistryTransport {
        let layout: String
        let requests = Mutex<[String]>([])

        init(layout: String) { self.layout = layout }

        var paths: [String] { requests.withLock { $0 } }

        func send(_ request: RegistryRequest, sink: BlobSink?) async throws -> RegistryResponse {
            guard let path = URLComponents(string: request.url)?.path else { return RegistryResponse(status: 400) }
            requests.withLock { $0.append(path) }
            if path == "/v2/" { return RegistryResponse(status: 200) }
            let parts = path.split(separator: "/").map(String.init)
            guard parts.count == 4, parts[1] == "guest" else { return RegistryResponse(status: 404) }
            var digest = parts[3]
            if parts[2] == "manifests", !digest.hasPrefix("sha256:") {
                let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(layout)/index.json"))) as? [String: Any]
                let manifests = index?["manifests"] as? [[String: Any]] ?? []
                let tagged = manifests.first { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == digest }
                guard let found = tagged?["digest"] as? String else {
                    return RegistryResponse(status: 404, body: Array(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#.utf8))
                }
                digest = found
            }
            guard let bytes = try? Array(Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(digest.dropFirst(7))"))) else {
                return RegistryResponse(status: 404)
            }
            if parts[2] == "blobs", let sink {
                try sink.write(bytes)
                return RegistryResponse(status: 200)
            }
            return RegistryResponse(status: 200, headers: ["Content-Type": OCILayoutBuilder.indexType], body: bytes)
        }
    }

    @Test func aMultiLayerMultiPlatformImageIsPulledOnceAndSharedByDigest() async throws {
        try await TemporaryDirectory.with { dir in
            let disk = dir.sub("disk.qcow2")
            try await ContainerDiskStoreTests.makeDisk(disk)
            let note = try dir.write("note", "not the disk")
            let layout = try OCILayoutBuilder(directory: dir.sub("layout"), scratch: dir.sub("scratch"))
            let lower = try await layout.addLayer([("etc/note", note)], gzip: false)
            let upper = try await layout.addLayer([("disk/disk.qcow2", disk)], gzip: true)
            let amd64 = try await layout.addManifest(layers: [lower, upper])
            let arm64 = try await layout.addManifest(layers: [lower], architecture: "arm64")
            let index = try await layout.addIndex([(arm64, "arm64"), (amd64, "amd64")])
            try layout.writeIndex([(index, "v1", OCILayoutBuilder.indexType)])
            let registry = LayoutRegistry(layout: layout.directory)
            let store = ContainerDiskStore(cacheDirectory: dir.sub("cache"), architecture: "amd64", registryTransport: registry)

            let resolved = try await store.resolve(image: "registry.test/guest:v1")
            #expect(resolved.path == dir.sub("cache/sha256-\(amd64.digest.dropFirst(7))/disk.qcow2"))
            #expect(try await Tool.sha256(resolved.path) == Tool.sha256(disk))
            let blobGets = registry.paths.filter { $0.contains("/blobs/") }
            #expect(blobGets.sorted() == ["/v2/guest/blobs/\(lower.blob.digest)", "/v2/guest/blobs/\(upper.blob.digest)"].sorted())
            #expect(!registry.paths.contains("/v2/guest/manifests/\(arm64.digest)"))

            // IfNotPresent (the default for a tag other than latest) and a digest: nothing asked again.
            let asked = registry.paths.count
            #expect(try await store.resolve(image: "registry.test/guest:v1") == resolved)
            #expect(try await store.resolve(image: "registry.test/guest@\(index.digest)") == resolved)
            #expect(registry.paths.count == asked)

            // Always: the tag's manifests again, no blob.
            #expect(try await store.resolve(image: "registry.test/guest:v1", pullPolicy: "Always") == resolved)
            #expect(registry.paths.count > asked)
            #expect(registry.paths.filter { $0.contains("/blobs/") }.count == blobGets.count)

            // Never, on a node that has not pulled it.
            let fresh = ContainerDiskStore(cacheDirectory: dir.sub("other-cache"), registryTransport: registry)
            await #expect(throws: ContainerDiskError.neverPull(image: "registry.test/guest:v1")) {
                try await fresh.resolve(image: "registry.test/guest:v1", pullPolicy: "Never")
            }
            // A tag the registry does not have, in the registry's words.
            await #expect(throws: ContainerDiskError.pullFailed(
                image: "registry.test/guest:v2", error: .notFound(reference: "registry.test/guest:v2", message: "MANIFEST_UNKNOWN: manifest unknown"))) {
                try await fresh.resolve(image: "registry.test/guest:v2")
            }
        }
    }
}
