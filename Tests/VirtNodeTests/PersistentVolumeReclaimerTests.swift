import Foundation
import Testing
import VirtAPI
import VirtClient
import VirtDisk
import VirtReconcile
import VirtTestSupport

@testable import VirtNode

/// The node's part of reclaim: files of a deleted provisioned volume removed on the node that holds
/// them, then the finalizer; other nodes' volumes left alone.
@Suite struct PersistentVolumeReclaimerTests {
    func provisioned(_ name: String, driver: String, node: String?) -> JSONValue {
        var spec: JSONValue = ["csi": ["driver": .string(driver), "volumeHandle": .string(name)], "capacity": ["storage": "1Gi"]]
        if let node {
            spec["nodeAffinity"] = ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                "key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]]]]]]
        }
        return ["apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": ["name": .string(name), "finalizers": [.string(StorageNames.volumeReclaimFinalizer)]], "spec": spec]
    }

    @Test func removesTheFilesOfDeletedVolumesThisNodeHolds() async throws {
        let base = NSTemporaryDirectory() + "reclaim-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let directories = VolumeDirectories(local: base + "/local", shared: base + "/shared")
        for dir in ["local/pvc-mine", "local/pvc-theirs", "shared/pvc-shared"] {
            try FileManager.default.createDirectory(atPath: "\(base)/\(dir)", withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: "\(base)/\(dir)/disk.img", contents: Data("x".utf8)))
        }
        let client = FakeAPIClient()
        client.seed(StorageNames.volumes, provisioned("pvc-mine", driver: StorageNames.localProvisioner, node: "node-a"))
        client.seed(StorageNames.volumes, provisioned("pvc-theirs", driver: StorageNames.localProvisioner, node: "node-b"))
        client.seed(StorageNames.volumes, provisioned("pvc-shared", driver: StorageNames.sharedProvisioner, node: nil))
        for name in ["pvc-mine", "pvc-theirs", "pvc-shared"] {
            _ = try await client.delete(StorageNames.volumes.named(name), propagationPolicy: nil, gracePeriodSeconds: nil)
        }
        let cache = ObjectCache(client.objects(StorageNames.volumes))
        let reclaimer = PersistentVolumeReclaimer(client: client, volumes: cache, nodeName: "node-a", directories: directories, logger: quietLogger)
        for name in ["pvc-mine", "pvc-theirs", "pvc-shared"] {
            #expect(try await reclaimer.reconcile(ObjectKey(namespace: nil, name: name)) == .done)
        }
        #expect(!FileManager.default.fileExists(atPath: base + "/local/pvc-mine"))
        #expect(!FileManager.default.fileExists(atPath: base + "/shared/pvc-shared"))
        #expect(FileManager.default.fileExists(atPath: base + "/local/pvc-theirs/disk.img"))
        #expect(client.object(StorageNames.volumes.named("pvc-mine")) == nil)
        #expect(client.object(StorageNames.volumes.named("pvc-shared")) == nil)
        #expect(client.object(StorageNames.volumes.named("pvc-theirs"))?.metadataDeletionTimestamp != nil)
    }

    @Test func volumeSourcesResolveToPathsOnThisNode() throws {
        let directories = VolumeDirectories(local: "/data/volumes", shared: "/mnt/shared")
        var pv = PersistentVolume(metadata: ObjectMeta(name: "v"), spec: PersistentVolumeSpec())
        pv.spec?.csi = ["driver": .string(StorageNames.sharedProvisioner), "volumeHandle": "pvc-1"]
        #expect(try directories.path(of: pv) == "/mnt/shared/pvc-1")
        pv.spec?.csi = ["driver": .string(StorageNames.localProvisioner), "volumeHandle": "pvc-1"]
        #expect(try directories.path(of: pv) == "/data/volumes/pvc-1")
        pv.spec?.csi = ["driver": .string(StorageNames.localProvisioner), "volumeHandle": "../etc"]
        #expect(throws: (any Error).self) { try directories.path(of: pv) }
        pv.spec?.csi = nil
        pv.spec?.local = LocalVolumeSource(path: "/srv/disk")
        #expect(try directories.path(of: pv) == "/srv/disk")
        pv.spec?.local = nil
        #expect(throws: (any Error).self) { try directories.path(of: pv) }
    }
}
