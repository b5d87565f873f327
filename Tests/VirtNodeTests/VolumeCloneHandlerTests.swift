import Foundation
import Testing
import VirtAPI
import VirtClient
import VirtReconcile
import VirtTestSupport

@testable import VirtNode

/// The node's clone of a DataVolume's claim: the node holding both volumes copies the source's disk.img into
/// the target's (real files in a temporary directory), grows it to the claim's capacity, writes the importer's
/// marker and reports Succeeded; a bigger source, or a source local to another node, fails the clone.
@Suite struct VolumeCloneHandlerTests {
    struct World {
        let base = NSTemporaryDirectory() + "clone-handler-\(UUID().uuidString.prefix(8))"
        let client = FakeAPIClient()
        let claims = ObjectCache()
        let volumes = ObjectCache()

        func seedClaim(_ name: String, volume: String, size: String, annotations: [String: JSONValue], node: String) {
            client.seed(StorageNames.claims.inNamespace("default"), [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": .string(name), "namespace": "default", "annotations": .object(annotations)],
                "spec": ["volumeName": .string(volume), "volumeMode": "Filesystem"],
                "status": ["phase": "Bound", "capacity": ["storage": .string(size)]],
            ])
            client.seed(StorageNames.volumes, [
                "apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": .string(volume)],
                "spec": ["csi": ["driver": .string(StorageNames.localProvisioner), "volumeHandle": .string(volume)], "capacity": ["storage": .string(size)],
                         "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                             "key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]]]]]]],
            ])
        }

        /// The golden claim (imported, marker written, `disk.img` of `sourceBytes` with a pattern at its start) and
        /// the target claim `copy` asking to clone it.
        func seed(sourceBytes: Int = 1 << 20, sourceNode: String = "node-a", targetSize: String = "4Mi") throws {
            seedClaim("golden", volume: "pv-golden", size: "1Mi",
                      annotations: [CDINames.Annotation.source: "http", CDINames.Annotation.podPhase: "Succeeded"], node: sourceNode)
            seedClaim("copy", volume: "pv-copy", size: targetSize, annotations: [CDINames.cloneRequestAnnotation: "default/golden"], node: "node-a")
            let directory = base + "/local/pv-golden"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var bytes = Data(count: sourceBytes)
            for index in 0..<4096 { bytes[index] = UInt8(truncatingIfNeeded: index * 7) }
            FileManager.default.createFile(atPath: directory + "/disk.img", contents: bytes)
            FileManager.default.createFile(atPath: directory + "/disk.img.complete", contents: Data(#"{"format":"raw"}"#.utf8))
        }

        func reconcile() async throws -> ReconcileResult {
            claims.replace(with: client.objects(StorageNames.claims))
            volumes.replace(with: client.objects(StorageNames.volumes))
            let handler = VolumeCloneHandler(client: client, claims: claims, volumes: volumes, nodeName: "node-a",
                                             directories: VolumeDirectories(local: base + "/local", shared: base + "/shared"), logger: quietLogger)
            return try await handler.reconcile(ObjectKey(namespace: "default", name: "copy"))
        }

        func annotation(_ name: String) -> String? {
            client.object(StorageNames.claims.inNamespace("default").named("copy"))?[path: ["metadata", "annotations", name]]?.stringValue
        }
    }

    @Test func theNodeHoldingBothVolumesCopiesTheDiskGrowsItAndMarksItComplete() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        try world.seed()
        #expect(VolumeCloneHandler.wantsClone(try #require(world.client.object(StorageNames.claims.inNamespace("default").named("copy")))))
        _ = try await world.reconcile()

        let target = world.base + "/local/pv-copy/disk.img"
        let copied = try #require(FileManager.default.contents(atPath: target))
        let source = try #require(FileManager.default.contents(atPath: world.base + "/local/pv-golden/disk.img"))
        #expect(copied.count == 4 << 20)
        #expect(copied.prefix(source.count) == source)
        let marker = try #require(FileManager.default.contents(atPath: target + ".complete"))
        let fields = try #require(try JSONSerialization.jsonObject(with: marker) as? [String: Any])
        #expect(fields["source"] as? String == "pvc://default/golden")
        #expect(fields["virtualSize"] as? Int == 4 << 20)
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Succeeded")
        #expect(world.annotation(CDINames.Annotation.runningConditionMessage) == "Clone Complete")
        #expect(world.annotation(VolumeImportHandler.importNodeAnnotation) == "node-a")
    }

    @Test func aSourceBiggerThanTheTargetFailsTheCloneForGood() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        try world.seed(sourceBytes: 8 << 20, targetSize: "4Mi")
        _ = try await world.reconcile()
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Failed")
        #expect(world.annotation(CDINames.Annotation.runningConditionMessage)?.contains("target resources requests storage size is smaller than the source") == true)
        #expect(!FileManager.default.fileExists(atPath: world.base + "/local/pv-copy/disk.img.complete"))
    }

    @Test func aLocalSourceOnAnotherNodeIsRefusedAsNotSupportedYet() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        try world.seed(sourceNode: "node-b")
        _ = try await world.reconcile()
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Failed")
        #expect(world.annotation(CDINames.Annotation.runningConditionMessage)?.contains("across nodes is not supported yet") == true)
    }

    @Test func aSourceWhoseImportIsNotDoneIsWaitedFor() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        try world.seed()
        world.seedClaim("golden", volume: "pv-golden", size: "1Mi",
                        annotations: [CDINames.Annotation.source: "http", CDINames.Annotation.podPhase: "Running"], node: "node-a")
        let result = try await world.reconcile()
        #expect(result == .requeue(after: .seconds(2)))
        #expect(world.annotation(CDINames.Annotation.podPhase) == nil)
    }
}
