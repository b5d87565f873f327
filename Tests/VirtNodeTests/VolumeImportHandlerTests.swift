import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtClient
import VirtReconcile
import VirtTestSupport

@testable import VirtNode

/// A volume importer that answers from a script and records what it was asked; a success writes the marker.
final class FakeVolumeImporter: VolumeImporter {
    let outcomes: Mutex<[VolumeImportOutcome]>
    let requests = Mutex<[VolumeImportRequest]>([])

    init(_ outcomes: [VolumeImportOutcome]) { self.outcomes = Mutex(outcomes) }

    func run(_ request: VolumeImportRequest, progress: @escaping @Sendable (String) async -> Void) async -> VolumeImportOutcome {
        requests.withLock { $0.append(request) }
        await progress("42.00%")
        let outcome = outcomes.withLock { $0.isEmpty ? .succeeded : $0.removeFirst() }
        if outcome == .succeeded { FileManager.default.createFile(atPath: request.target + ".complete", contents: Data("{}".utf8)) }
        return outcome
    }
}

/// The node's import of a DataVolume's claim: taken by the node that holds the volume, run by the importer,
/// reported in CDI's importer-pod annotations; retried after a back-off when a retry may help, Failed otherwise.
@Suite struct VolumeImportHandlerTests {
    struct World {
        let base = NSTemporaryDirectory() + "import-\(UUID().uuidString.prefix(8))"
        let client = FakeAPIClient()
        let claims = ObjectCache()
        let volumes = ObjectCache()

        func seed(source: String = "http", node: String = "node-a", extra: [String: JSONValue] = [:]) {
            var annotations: [String: JSONValue] = [CDINames.Annotation.source: .string(source)]
            if source == "http" { annotations[CDINames.Annotation.endpoint] = "http://127.0.0.1:9/disk.qcow2" }
            if source == "legacy" { annotations = [CDINames.Annotation.endpoint: "http://127.0.0.1:9/disk.qcow2"] }
            for (key, value) in extra { annotations[key] = value }
            client.seed(StorageNames.claims.inNamespace("default"), [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": "disk", "namespace": "default", "annotations": .object(annotations)],
                "spec": ["volumeName": "pvc-1", "volumeMode": "Filesystem"],
                "status": ["phase": "Bound", "capacity": ["storage": "64Mi"]],
            ])
            client.seed(StorageNames.volumes, [
                "apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": "pvc-1"],
                "spec": ["csi": ["driver": .string(StorageNames.localProvisioner), "volumeHandle": "pvc-1"], "capacity": ["storage": "64Mi"],
                         "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                             "key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]]]]]]],
            ])
        }

        func reconcile(_ handler: VolumeImportHandler) async throws -> ReconcileResult {
            claims.replace(with: client.objects(StorageNames.claims))
            volumes.replace(with: client.objects(StorageNames.volumes))
            return try await handler.reconcile(ObjectKey(namespace: "default", name: "disk"))
        }

        func handler(_ importer: FakeVolumeImporter) -> VolumeImportHandler {
            VolumeImportHandler(client: client, claims: claims, volumes: volumes, nodeName: "node-a",
                                directories: VolumeDirectories(local: base + "/local", shared: base + "/shared"), importer: importer, logger: quietLogger)
        }

        func annotation(_ name: String) -> String? {
            client.object(StorageNames.claims.inNamespace("default").named("disk"))?[path: ["metadata", "annotations", name]]?.stringValue
        }
    }

    @Test func anImportRunsIntoDiskImgOfTheVolumeAndSucceedsWithItsMarker() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed(extra: [CDINames.Annotation.checksum: "sha256:ab", "\(CDINames.Annotation.extraHeaders).0": "X-A: 1",
                           "\(CDINames.Annotation.secretExtraHeaders).0": "hidden", CDINames.Annotation.insecureSkipVerify: "true"])
        world.client.seed(ResourcePath.core("secrets").inNamespace("default"), [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "hidden", "namespace": "default"],
            "data": ["token": .string(Data("Authorization: Bearer t0k".utf8).base64EncodedString())],
        ])
        let importer = FakeVolumeImporter([.succeeded])
        #expect(try await world.reconcile(world.handler(importer)) == .done)

        let request = try #require(importer.requests.withLock { $0.first })
        #expect(request.target == world.base + "/local/pvc-1/disk.img")
        #expect(request.size == 64 * 1024 * 1024)
        #expect(request.url == "http://127.0.0.1:9/disk.qcow2")
        #expect(request.checksum == "sha256:ab")
        #expect(request.headers == ["X-A: 1", "Authorization: Bearer t0k"])
        #expect(request.insecureSkipVerify)
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Succeeded")
        #expect(world.annotation(CDINames.Annotation.progress) == "100.0%")
        #expect(world.annotation(CDINames.Annotation.runningConditionReason) == "Completed")
        #expect(world.annotation(VolumeImportHandler.importNodeAnnotation) == "node-a")

        // Done is done: no second import.
        #expect(try await world.reconcile(world.handler(importer)) == .done)
        #expect(importer.requests.withLock { $0.count } == 1)
    }

    @Test func aRetryableFailureCountsARestartAndWaitsItsBackOff() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed()
        let importer = FakeVolumeImporter([.failed(reason: "HTTPError", message: "503 Service Unavailable", retryable: true)])
        let handler = world.handler(importer)
        #expect(try await world.reconcile(handler) == .requeue(after: .seconds(2)))
        #expect(world.annotation(CDINames.Annotation.podRestarts) == "1")
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Running")
        #expect(world.annotation(CDINames.Annotation.runningCondition) == "false")
        #expect(world.annotation(CDINames.Annotation.runningConditionMessage) == "HTTPError: 503 Service Unavailable")
        // Woken by its own write before the back-off is over: it waits.
        guard case .requeue = try await world.reconcile(handler) else { Issue.record("expected a requeue"); return }
        #expect(importer.requests.withLock { $0.count } == 1)
    }

    @Test func aFailureARetryCannotHelpFailsTheImport() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed()
        let importer = FakeVolumeImporter([.failed(reason: "HTTPError", message: "404 Not Found", retryable: false)])
        #expect(try await world.reconcile(world.handler(importer)) == .done)
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Failed")
        #expect(world.annotation(CDINames.Annotation.runningConditionReason) == "Error")
        #expect(world.annotation(CDINames.Annotation.runningConditionMessage) == "HTTPError: 404 Not Found")
    }

    @Test func anotherNodesVolumeIsLeftAlone() async throws {
        let world = World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed(node: "node-b")
        let importer = FakeVolumeImporter([])
        #expect(try await world.reconcile(world.handler(importer)) == .done)
        #expect(importer.requests.withLock { $0.isEmpty })
        #expect(world.annotation(CDINames.Annotation.podPhase) == nil)
    }

    @Test func blankAndTheLegacyEndpointAnnotationAreImportsToo() async throws {
        for (source, expected) in [("blank", "blank"), ("legacy", "http")] {
            let world = World()
            defer { try? FileManager.default.removeItem(atPath: world.base) }
            world.seed(source: source)
            let importer = FakeVolumeImporter([.succeeded])
            _ = try await world.reconcile(world.handler(importer))
            #expect(importer.requests.withLock { $0.first?.source } == expected)
            #expect(world.annotation(CDINames.Annotation.podPhase) == "Succeeded")
        }
    }

    @Test func theImporterCommandLine() {
        let http = VolumeImportRequest(source: "http", url: "http://h/d", checksum: "sha256:ab", headers: ["X: 1"], username: "u",
                                       target: "/v/disk.img", size: 1024, logPath: "/v/disk.img.import.log")
        #expect(ImporterProcess.arguments(for: http, caBundlePath: "/v/ca.pem") == [
            "--target", "/v/disk.img", "--size", "1024", "--progress", "--url", "http://h/d", "--checksum", "sha256:ab",
            "--username", "u", "--header", "X: 1", "--ca-bundle", "/v/ca.pem",
        ])
        let blank = VolumeImportRequest(source: "blank", target: "/v/disk.img", size: 1024, logPath: "/v/log")
        #expect(ImporterProcess.arguments(for: blank, caBundlePath: nil) == ["--target", "/v/disk.img", "--size", "1024", "--progress", "--blank"])
    }
}
