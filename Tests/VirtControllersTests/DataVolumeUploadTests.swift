import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// `source.upload`: the claim is an upload target (no import source), a force-bind request goes with it,
/// and the phases are CDI's upload phases, read from what the node agent writes on the claim.
@Suite struct DataVolumeUploadTests {
    func uploadDataVolume(_ world: DataVolumeWorld, forceBind: Bool) {
        var manifest = dataVolumeManifest("up", source: ["upload": [:]])
        if forceBind { manifest[path: ["metadata", "annotations"]] = [CDINames.Upload.bindImmediateAnnotation: "true"] }
        world.client.seed(DataVolumeController.path.inNamespace(namespace), manifest)
    }

    @Test func anUploadDataVolumeGoesUploadScheduledThenUploadReadyThenSucceeded() async throws {
        let world = DataVolumeWorld()
        uploadDataVolume(world, forceBind: true)
        try await world.reconcile("up")

        let claim = try #require(world.claim("up"))
        let annotations = claim[path: ["metadata", "annotations"]]
        #expect(annotations?[CDINames.Upload.targetAnnotation] == "")
        #expect(annotations?[CDINames.Upload.bindImmediateAnnotation] == "true")
        #expect(annotations?[CDINames.Annotation.source] == nil)
        #expect(claim[path: ["spec", "storageClassName"]] == "local")
        // Force-bound: not WaitForFirstConsumer although the class binds on first consumer.
        #expect(world.dataVolume("up")?[path: ["status", "phase"]] == "Pending")

        world.setClaim("up", phase: "Bound", annotations: [:])
        try await world.reconcile("up")
        #expect(world.dataVolume("up")?[path: ["status", "phase"]] == "UploadScheduled")
        #expect(world.client.events(reason: "UploadScheduled").first?["message"] == "Upload into up scheduled")

        world.setClaim("up", phase: "Bound", annotations: [CDINames.Annotation.podPhase: "Running", CDINames.Upload.readyAnnotation: "true",
                                                           CDINames.Annotation.runningCondition: "true"])
        try await world.reconcile("up")
        #expect(world.dataVolume("up")?[path: ["status", "phase"]] == "UploadReady")
        #expect(world.condition("up", "Running")?["status"] == "True")
        #expect(world.condition("up", "Ready")?["status"] == "False")
        #expect(world.client.events(reason: "UploadReady").count == 1)

        // A failed upload counts a restart and stays ready for the next one.
        world.setClaim("up", phase: "Bound", annotations: [CDINames.Annotation.podRestarts: "1",
                                                           CDINames.Annotation.runningConditionReason: "Error"])
        try await world.reconcile("up")
        #expect(world.dataVolume("up")?[path: ["status", "phase"]] == "UploadReady")
        #expect(world.dataVolume("up")?[path: ["status", "restartCount"]] == 1)

        world.setClaim("up", phase: "Bound", annotations: [CDINames.Annotation.podPhase: "Succeeded", CDINames.Upload.readyAnnotation: "false",
                                                           CDINames.Annotation.runningCondition: "false"])
        try await world.reconcile("up")
        let status = world.dataVolume("up")?["status"]
        #expect(status?["phase"] == "Succeeded")
        #expect(status?["progress"] == "100.0%")
        #expect(world.condition("up", "Ready")?["status"] == "True")
        #expect(world.client.events(reason: "UploadSucceeded").first?["message"] == "Successfully uploaded into PVC up")
        #expect(world.client.events(reason: "ImportSucceeded").isEmpty)
    }

    @Test func withoutForceBindAnUploadOnTheDefaultClassWaitsForItsFirstConsumer() async throws {
        let world = DataVolumeWorld()
        uploadDataVolume(world, forceBind: false)
        try await world.reconcile("up")
        #expect(world.claim("up")?[path: ["metadata", "annotations", CDINames.Upload.bindImmediateAnnotation]] == nil)
        #expect(world.dataVolume("up")?[path: ["status", "phase"]] == "WaitForFirstConsumer")
    }
}
