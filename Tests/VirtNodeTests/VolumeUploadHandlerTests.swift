import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile
import VirtTestSupport

@testable import VirtNode

/// An upload importer that reads nothing and exits as scripted; a success writes the marker.
final class FakeUploadImporter: UploadImporter {
    let codes: Mutex<[Int32]>
    let targets = Mutex<[String]>([])

    init(_ codes: [Int32]) { self.codes = Mutex(codes) }

    func start(target: String, size: Int64, logPath: String) throws(VirtError) -> RunningUpload {
        targets.withLock { $0.append(target) }
        let code = codes.withLock { $0.isEmpty ? 0 : $0.removeFirst() }
        if code == 0 { FileManager.default.createFile(atPath: target + ".complete", contents: Data("{}".utf8)) }
        try? "BadImage: not a disk image\n".write(toFile: logPath, atomically: true, encoding: .utf8)
        var ends: [Int32] = [0, 0]
        _ = pipe(&ends)
        close(ends[0])
        return RunningUpload(descriptor: ends[1], pid: nil, logPath: logPath) { code }
    }
}

/// The node's part of uploads: a force-bound claim is placed here, a bound one made ready, an upload
/// received into the volume's disk.img and reported in CDI's annotations; one at a time per claim.
@Suite struct VolumeUploadHandlerTests {
    struct World {
        let base = NSTemporaryDirectory() + "upload-\(UUID().uuidString.prefix(8))"
        let client = FakeAPIClient()
        let claims = ObjectCache()
        let volumes = ObjectCache()

        func seed(bound: Bool = true, annotations extra: [String: JSONValue] = [:]) {
            var annotations: [String: JSONValue] = [CDINames.Upload.targetAnnotation: ""]
            for (key, value) in extra { annotations[key] = value }
            client.seed(StorageNames.claims.inNamespace("default"), [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": "disk", "namespace": "default", "annotations": .object(annotations)],
                "spec": bound ? ["volumeName": "pvc-1", "volumeMode": "Filesystem"] : ["volumeMode": "Filesystem"],
                "status": bound ? ["phase": "Bound", "capacity": ["storage": "64Mi"]] : ["phase": "Pending"],
            ])
            client.seed(StorageNames.volumes, [
                "apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": "pvc-1"],
                "spec": ["csi": ["driver": .string(StorageNames.localProvisioner), "volumeHandle": "pvc-1"], "capacity": ["storage": "64Mi"],
                         "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                             "key": "kubernetes.io/hostname", "operator": "In", "values": ["node-a"]]]]]]]],
            ])
            refresh()
        }

        func refresh() {
            claims.replace(with: client.objects(StorageNames.claims))
            volumes.replace(with: client.objects(StorageNames.volumes))
        }

        func handler(_ importer: FakeUploadImporter = FakeUploadImporter([])) -> VolumeUploadHandler {
            VolumeUploadHandler(client: client, claims: claims, volumes: volumes, nodeName: "node-a",
                                directories: VolumeDirectories(local: base + "/local", shared: base + "/shared"), importer: importer, logger: quietLogger)
        }

        func annotation(_ name: String) -> String? {
            client.object(StorageNames.claims.inNamespace("default").named("disk"))?[path: ["metadata", "annotations", name]]?.stringValue
        }
    }

    let key = ObjectKey(namespace: "default", name: "disk")

    @Test func aForceBoundClaimIsPlacedHereAndABoundOneMadeReady() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed(bound: false, annotations: [CDINames.Upload.bindImmediateAnnotation: "true"])
        _ = try await world.handler().reconcile(key)
        #expect(world.annotation(StorageNames.selectedNodeAnnotation) == "node-a")
        #expect(world.annotation(CDINames.Upload.readyAnnotation) == nil)

        world.seed()
        _ = try await world.handler().reconcile(key)
        #expect(world.annotation(CDINames.Upload.readyAnnotation) == "true")
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Running")
        #expect(world.annotation(VolumeImportHandler.importNodeAnnotation) == "node-a")
    }

    @Test func withoutForceBindAnUnboundClaimIsLeftToItsConsumer() async throws {
        let world = World()
        world.seed(bound: false)
        _ = try await world.handler().reconcile(key)
        #expect(world.annotation(StorageNames.selectedNodeAnnotation) == nil)
    }

    @Test func anUploadFillsTheVolumeAndSucceeds() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed()
        _ = try await world.handler().reconcile(key)
        world.refresh()
        let importer = FakeUploadImporter([0])
        let handler = world.handler(importer)
        let upload = try handler.begin(namespace: "default", name: "disk")
        #expect(importer.targets.withLock { $0 } == [world.base + "/local/pvc-1/disk.img"])
        // One upload at a time.
        let second = #expect(throws: VirtError.self) { try handler.begin(namespace: "default", name: "disk") }
        #expect(second?.code == .conflict)
        close(upload.descriptor)
        #expect(await handler.end(namespace: "default", name: "disk", outcome: await upload.outcome()) == nil)
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Succeeded")
        #expect(world.annotation(CDINames.Annotation.progress) == "100.0%")
        #expect(world.annotation(CDINames.Upload.readyAnnotation) == "false")
        world.refresh()
        let done = #expect(throws: VirtError.self) { try handler.begin(namespace: "default", name: "disk") }
        #expect(done?.message.contains("complete already") == true)
    }

    @Test func aFailedUploadCountsARestartAndStaysReady() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed()
        _ = try await world.handler().reconcile(key)
        world.refresh()
        let handler = world.handler(FakeUploadImporter([1, 0]))
        let upload = try handler.begin(namespace: "default", name: "disk")
        close(upload.descriptor)
        let failure = await handler.end(namespace: "default", name: "disk", outcome: await upload.outcome())
        #expect(failure?.message.contains("BadImage: not a disk image") == true)
        #expect(world.annotation(CDINames.Annotation.podRestarts) == "1")
        #expect(world.annotation(CDINames.Upload.readyAnnotation) == "true")
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Running")
        // The next upload may start.
        world.refresh()
        let again = try handler.begin(namespace: "default", name: "disk")
        close(again.descriptor)
        #expect(await handler.end(namespace: "default", name: "disk", outcome: await again.outcome()) == nil)
    }

    @Test func aClaimNotReadyHereIsRefused() async throws {
        let world = World()
        world.seed()
        let refused = #expect(throws: VirtError.self) { try world.handler().begin(namespace: "default", name: "disk") }
        #expect(refused?.code == .serviceUnavailable)
        let missing = #expect(throws: VirtError.self) { try world.handler().begin(namespace: "default", name: "other") }
        #expect(missing?.code == .notFound)
    }

    @Test func theImporterReadsStandardInput() {
        #expect(UploadImporterProcess.arguments(target: "/v/disk.img", size: 42) == ["--target", "/v/disk.img", "--size", "42", "--progress", "--file", "-"])
    }
}
