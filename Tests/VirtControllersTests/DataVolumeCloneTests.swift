import Foundation
import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// The fake API, the built-in classes, and the DataVolume and DataSource controllers over caches filled from it,
/// with a source claim `golden` (64Mi, bound to a volume local to node-a, filled by an import that succeeded).
struct CloneWorld {
    let client = FakeAPIClient()
    let dataVolumes = ObjectCache()
    let claims = ObjectCache()
    let classes = ObjectCache()
    let pods = ObjectCache()
    let volumes = ObjectCache()
    let dataSources = ObjectCache()
    let controller: DataVolumeController
    let dataSourceController: DataSourceController

    init() {
        controller = DataVolumeController(
            client: client, dataVolumes: dataVolumes, claims: claims, classes: classes,
            recorder: EventRecorder(client: client, component: "datavolume-controller", logger: quietLogger), logger: quietLogger)
            .withCloneSources(pods: pods, volumes: volumes, dataSources: dataSources)
        dataSourceController = DataSourceController(client: client, dataSources: dataSources, claims: claims, dataVolumes: dataVolumes,
                                                    logger: quietLogger)
        client.seed(StorageNames.classes, storageClass(StorageNames.localClass, provisioner: StorageNames.localProvisioner,
                                                       binding: StorageNames.waitForFirstConsumer, isDefault: true))
        client.seed(StorageNames.classes, storageClass(StorageNames.sharedClass, provisioner: StorageNames.sharedProvisioner,
                                                       binding: StorageNames.immediate))
    }

    /// The source claim, bound to `pv-golden` on node-a; `podPhase` nil: a plain PVC nobody imports into.
    func seedSource(size: String = "64Mi", podPhase: String? = CDINames.PodPhase.succeeded, bound: Bool = true) {
        var claim = claimManifest("golden", size: size, className: StorageNames.localClass, volumeName: "pv-golden")
        if let podPhase {
            claim[path: ["metadata", "annotations"]] = [CDINames.Annotation.source: "http", CDINames.Annotation.podPhase: .string(podPhase)]
        }
        claim[path: ["status", "phase"]] = bound ? "Bound" : "Pending"
        client.seed(StorageNames.claims.inNamespace(namespace), claim)
        client.seed(StorageNames.volumes, [
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": "pv-golden"],
            "spec": ["capacity": ["storage": .string(size)], "csi": ["driver": .string(StorageNames.localProvisioner), "volumeHandle": "pv-golden"],
                     "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                         "key": .string(StorageNames.hostnameLabel), "operator": "In", "values": ["node-a"]]]]]]]],
        ])
    }

    func reconcile(_ name: String) async throws -> ReconcileResult {
        fill()
        return try await controller.reconcile(ObjectKey(namespace: namespace, name: name))
    }

    func reconcileDataSource(_ name: String) async throws {
        fill()
        _ = try await dataSourceController.reconcile(ObjectKey(namespace: namespace, name: name))
    }

    func fill() {
        dataVolumes.replace(with: client.objects(DataVolumeController.path))
        claims.replace(with: client.objects(StorageNames.claims))
        classes.replace(with: client.objects(StorageNames.classes))
        pods.replace(with: client.objects(KubeVirt.pods))
        volumes.replace(with: client.objects(StorageNames.volumes))
        dataSources.replace(with: client.objects(DataSourceController.path))
    }

    func dataVolume(_ name: String) -> JSONValue? { client.object(DataVolumeController.path.inNamespace(namespace).named(name)) }
    func claim(_ name: String) -> JSONValue? { client.object(StorageNames.claims.inNamespace(namespace).named(name)) }
    func condition(_ path: ResourcePath, _ type: String) -> JSONValue? {
        client.object(path)?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }
    func dvCondition(_ name: String, _ type: String) -> JSONValue? { condition(DataVolumeController.path.inNamespace(namespace).named(name), type) }
}

func cloneManifest(_ name: String, source: JSONValue? = ["pvc": ["namespace": "default", "name": "golden"]], sourceRef: JSONValue? = nil,
                   size: String? = nil, className: String? = nil) -> JSONValue {
    var storage: JSONValue = [:]
    if let size { storage["resources"] = ["requests": ["storage": .string(size)]] }
    if let className { storage["storageClassName"] = .string(className) }
    var spec: JSONValue = ["storage": storage]
    if let sourceRef { spec["sourceRef"] = sourceRef } else if let source { spec["source"] = source }
    return ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": ["name": .string(name)], "spec": spec]
}

@Suite struct DataVolumeCloneTests {
    @Test func aCloneOfALocalSourceGetsTheCloneRequestTheSourcesSizeAndItsNode() async throws {
        let world = CloneWorld()
        world.seedSource()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), cloneManifest("copy"))
        _ = try await world.reconcile("copy")

        let claim = try #require(world.claim("copy"))
        #expect(claim[path: ["metadata", "annotations", "k8s.io/CloneRequest"]] == "default/golden")
        #expect(claim[path: ["metadata", "annotations", CDINames.Annotation.source]] == nil)
        #expect(claim[path: ["metadata", "annotations", StorageNames.selectedNodeAnnotation]] == "node-a")
        #expect(claim[path: ["spec", "resources", "requests", "storage"]] == "64Mi")
        #expect(claim[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["kind"] == "DataVolume")
        #expect(world.dataVolume("copy")?[path: ["status", "phase"]] == "Pending")

        // Bound: the clone is scheduled; the agent takes it: in progress; it succeeds.
        var bound = claim
        bound[path: ["status", "phase"]] = "Bound"
        world.client.seed(StorageNames.claims.inNamespace(namespace), bound)
        _ = try await world.reconcile("copy")
        #expect(world.dataVolume("copy")?[path: ["status", "phase"]] == "CloneScheduled")
        #expect(world.client.events(reason: "CloneScheduled").first?["message"] == "Cloning from default/golden into copy scheduled")
        bound[path: ["metadata", "annotations", CDINames.Annotation.podPhase]] = "Running"
        world.client.seed(StorageNames.claims.inNamespace(namespace), bound)
        _ = try await world.reconcile("copy")
        #expect(world.dataVolume("copy")?[path: ["status", "phase"]] == "CloneInProgress")
        bound[path: ["metadata", "annotations", CDINames.Annotation.podPhase]] = "Succeeded"
        world.client.seed(StorageNames.claims.inNamespace(namespace), bound)
        _ = try await world.reconcile("copy")
        #expect(world.dataVolume("copy")?[path: ["status", "phase"]] == "Succeeded")
        #expect(world.dataVolume("copy")?[path: ["status", "progress"]] == "100.0%")
        #expect(world.dvCondition("copy", "Ready")?["status"] == "True")
        #expect(world.client.events(reason: "CloneSucceeded").first?["message"] == "Successfully cloned from default/golden into copy")
    }

    @Test func aRetriedCloneSaysSoInItsEvent() async throws {
        let world = CloneWorld()
        world.seedSource()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), cloneManifest("copy"))
        _ = try await world.reconcile("copy")
        var claim = try #require(world.claim("copy"))
        claim[path: ["status", "phase"]] = "Bound"
        for (key, value) in [CDINames.Annotation.podPhase: "Pending", CDINames.Annotation.podRestarts: "1",
                             CDINames.Annotation.runningConditionMessage: "CloneFailed: cannot write"] {
            claim[path: ["metadata", "annotations", key]] = .string(value)
        }
        world.client.seed(StorageNames.claims.inNamespace(namespace), claim)
        _ = try await world.reconcile("copy")
        #expect(world.dataVolume("copy")?[path: ["status", "restartCount"]] == 1)
        #expect(world.client.events(reason: "Error").first?["message"] == "Clone into copy failed and is retried (restart 1): CloneFailed: cannot write")
    }

    @Test func aCloneIntoTheSharedClassIsNotPinnedToANode() async throws {
        let world = CloneWorld()
        world.seedSource()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), cloneManifest("copy", size: "1Gi", className: StorageNames.sharedClass))
        _ = try await world.reconcile("copy")
        let claim = try #require(world.claim("copy"))
        #expect(claim[path: ["metadata", "annotations", StorageNames.selectedNodeAnnotation]] == nil)
        #expect(claim[path: ["spec", "resources", "requests", "storage"]] == "1Gi")
    }

    @Test func aTargetSmallerThanTheSourceFailsWithoutAClaim() async throws {
        let world = CloneWorld()
        world.seedSource(size: "64Mi")
        world.client.seed(DataVolumeController.path.inNamespace(namespace), cloneManifest("small", size: "32Mi"))
        _ = try await world.reconcile("small")
        #expect(world.claim("small") == nil)
        #expect(world.dataVolume("small")?[path: ["status", "phase"]] == "Failed")
        let running = try #require(world.dvCondition("small", "Running"))
        #expect(running["reason"] == "CloneValidationFailed")
        #expect(running["message"]?.stringValue?.contains("target resources requests storage size is smaller than the source: 32Mi < 64Mi") == true)
        let event = try #require(world.client.events(reason: "CloneValidationFailed").first)
        #expect(event["type"] == "Warning")
    }

    @Test func aMissingSourceLeavesTheDataVolumePendingUntilItIsPopulated() async throws {
        let world = CloneWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), cloneManifest("copy"))
        let result = try await world.reconcile("copy")
        #expect(result == .requeue(after: .seconds(2)))
        #expect(world.claim("copy") == nil)
        #expect(world.dataVolume("copy")?[path: ["status", "phase"]] == "Pending")
        #expect(world.dvCondition("copy", "Running")?["reason"] == "CloneWithoutSource")
        #expect(world.dvCondition("copy", "Running")?["message"]?.stringValue?.contains("default/golden doesn't exist") == true)

        world.seedSource(podPhase: CDINames.PodPhase.running)
        _ = try await world.reconcile("copy")
        #expect(world.claim("copy") == nil)
        #expect(world.dvCondition("copy", "Running")?["reason"] == "CloneSourceNotReady")

        world.seedSource()
        _ = try await world.reconcile("copy")
        #expect(world.claim("copy") != nil)
    }

    @Test func aSourceInUseByARunningPodWaitsWithCloneSourceInUse() async throws {
        let world = CloneWorld()
        world.seedSource()
        var pod = podManifest(name: "virt-launcher-vm")
        pod[path: ["spec", "volumes"]] = [["name": "root", "persistentVolumeClaim": ["claimName": "golden"]]]
        pod[path: ["status", "phase"]] = "Running"
        world.client.seed(podPath, pod)
        world.client.seed(DataVolumeController.path.inNamespace(namespace), cloneManifest("copy"))
        _ = try await world.reconcile("copy")
        #expect(world.claim("copy") == nil)
        #expect(world.dataVolume("copy")?[path: ["status", "phase"]] == "CloneScheduled")
        #expect(world.client.events(reason: "CloneSourceInUse").first?["message"] == "pod default/virt-launcher-vm using PersistentVolumeClaim golden")

        pod[path: ["status", "phase"]] = "Succeeded"
        world.client.seed(podPath, pod)
        _ = try await world.reconcile("copy")
        #expect(world.claim("copy")?[path: ["metadata", "annotations", "k8s.io/CloneRequest"]] == "default/golden")
    }

    @Test func aPodThatMountsTheSourceReadOnlyDoesNotHoldTheClone() async throws {
        let world = CloneWorld()
        world.seedSource()
        var pod = podManifest(name: "reader")
        pod[path: ["spec", "volumes"]] = [["name": "root", "persistentVolumeClaim": ["claimName": "golden", "readOnly": true]]]
        pod[path: ["status", "phase"]] = "Running"
        world.client.seed(podPath, pod)
        world.client.seed(DataVolumeController.path.inNamespace(namespace), cloneManifest("copy"))
        _ = try await world.reconcile("copy")
        #expect(world.claim("copy") != nil)
        #expect(world.client.events(reason: "CloneSourceInUse").isEmpty)
    }

    @Test func aSourceRefClonesTheDataSourcesPVCOnceTheDataSourceExists() async throws {
        let world = CloneWorld()
        world.seedSource()
        world.client.seed(DataVolumeController.path.inNamespace(namespace),
                          cloneManifest("from-ds", sourceRef: ["kind": "DataSource", "name": "fedora"]))
        _ = try await world.reconcile("from-ds")
        #expect(world.claim("from-ds") == nil)
        #expect(world.dataVolume("from-ds")?[path: ["status", "phase"]] == "Pending")
        #expect(world.dvCondition("from-ds", "Running")?["message"]?.stringValue?.contains("DataSource default/fedora not found") == true)

        world.client.seed(DataSourceController.path.inNamespace(namespace), [
            "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource", "metadata": ["name": "fedora"],
            "spec": ["source": ["pvc": ["namespace": "default", "name": "golden"]]],
        ])
        _ = try await world.reconcile("from-ds")
        #expect(world.claim("from-ds")?[path: ["metadata", "annotations", "k8s.io/CloneRequest"]] == "default/golden")
    }

    @Test func aDataSourceIsReadyOnceItsPVCIsPopulated() async throws {
        let world = CloneWorld()
        let path = DataSourceController.path.inNamespace(namespace).named("fedora")
        world.client.seed(DataSourceController.path.inNamespace(namespace), [
            "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource", "metadata": ["name": "fedora"],
            "spec": ["source": ["pvc": ["namespace": "default", "name": "golden"]]],
        ])
        try await world.reconcileDataSource("fedora")
        #expect(world.condition(path, "Ready")?["status"] == "False")
        #expect(world.condition(path, "Ready")?["reason"] == "NotFound")
        #expect(world.client.object(path)?[path: ["status", "source", "pvc", "name"]] == "golden")

        world.seedSource(podPhase: CDINames.PodPhase.running)
        try await world.reconcileDataSource("fedora")
        #expect(world.condition(path, "Ready")?["reason"] == "NotPopulated")

        world.seedSource()
        try await world.reconcileDataSource("fedora")
        #expect(world.condition(path, "Ready")?["status"] == "True")
        #expect(world.condition(path, "Ready")?["reason"] == "Ready")
        #expect(DataSourceController.naming(ObjectKey(namespace: namespace, name: "golden"), in: world.dataSources).map(\.name) == ["fedora"])
    }
}
