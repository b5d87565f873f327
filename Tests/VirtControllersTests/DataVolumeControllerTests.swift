import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// The fake API, the built-in classes, and the DataVolume controller over caches filled from it.
struct DataVolumeWorld {
    let client = FakeAPIClient()
    let dataVolumes = ObjectCache()
    let claims = ObjectCache()
    let classes = ObjectCache()
    let controller: DataVolumeController

    init() {
        controller = DataVolumeController(
            client: client, dataVolumes: dataVolumes, claims: claims, classes: classes,
            recorder: EventRecorder(client: client, component: "datavolume-controller", logger: quietLogger), logger: quietLogger)
        client.seed(StorageNames.classes, storageClass(StorageNames.localClass, provisioner: StorageNames.localProvisioner,
                                                       binding: StorageNames.waitForFirstConsumer, isDefault: true))
        client.seed(StorageNames.classes, storageClass(StorageNames.sharedClass, provisioner: StorageNames.sharedProvisioner,
                                                       binding: StorageNames.immediate))
    }

    func reconcile(_ name: String) async throws {
        dataVolumes.replace(with: client.objects(DataVolumeController.path))
        claims.replace(with: client.objects(StorageNames.claims))
        classes.replace(with: client.objects(StorageNames.classes))
        _ = try await controller.reconcile(ObjectKey(namespace: namespace, name: name))
    }

    func dataVolume(_ name: String) -> JSONValue? { client.object(DataVolumeController.path.inNamespace(namespace).named(name)) }
    func claim(_ name: String) -> JSONValue? { client.object(StorageNames.claims.inNamespace(namespace).named(name)) }

    /// Binds the claim and sets the node agent's import annotations on it, as the PV controller and the agent would.
    func setClaim(_ name: String, phase: String, annotations: [String: String]) {
        guard var claim = claim(name) else { return }
        claim[path: ["status", "phase"]] = .string(phase)
        for (key, value) in annotations { claim[path: ["metadata", "annotations", key]] = .string(value) }
        _ = client.seed(StorageNames.claims.inNamespace(namespace), claim)
    }

    func condition(_ name: String, _ type: String) -> JSONValue? {
        dataVolume(name)?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }
}

func dataVolumeManifest(_ name: String, source: JSONValue, storage: JSONValue = ["resources": ["requests": ["storage": "1Gi"]]]) -> JSONValue {
    ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": ["name": .string(name)],
     "spec": ["source": source, "storage": storage]]
}

@Suite struct DataVolumeControllerTests {
    @Test func anHTTPDataVolumeGetsItsClaimWithTheImportAnnotationsAndWaitsForItsFirstConsumer() async throws {
        let world = DataVolumeWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest(
            "disk", source: ["http": ["url": "http://127.0.0.1:8000/disk.qcow2", "checksum": "sha256:ab", "extraHeaders": ["X-A: 1"],
                                      "secretRef": "creds", "certConfigMap": "cas",
                                      "secretExtraHeaders": ["hidden"], "insecureSkipVerify": true]]))
        try await world.reconcile("disk")

        let claim = try #require(world.claim("disk"))
        #expect(claim[path: ["spec", "storageClassName"]] == "local")
        #expect(claim[path: ["spec", "accessModes"]] == ["ReadWriteOnce"])
        #expect(claim[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(claim[path: ["spec", "resources", "requests", "storage"]] == "1Gi")
        #expect(claim.controllerReference?.kind == "DataVolume")
        #expect(claim.controllerReference?.uid == world.dataVolume("disk")?.metadataUID)
        let annotations = claim[path: ["metadata", "annotations"]]
        #expect(annotations?[CDINames.Annotation.endpoint] == "http://127.0.0.1:8000/disk.qcow2")
        #expect(annotations?[CDINames.Annotation.source] == "http")
        #expect(annotations?[CDINames.Annotation.secretName] == "creds")
        #expect(annotations?[CDINames.Annotation.certConfigMap] == "cas")
        #expect(annotations?[CDINames.Annotation.checksum] == "sha256:ab")
        #expect(annotations?["cdi.kubevirt.io/storage.import.extraHeaders.0"] == "X-A: 1")
        #expect(annotations?["cdi.kubevirt.io/storage.import.secretExtraHeaders.0"] == "hidden")
        #expect(annotations?["swiftvirt.io/import-insecure-skip-verify"] == "true")

        try await world.reconcile("disk")
        let status = try #require(world.dataVolume("disk")?["status"])
        #expect(status["phase"] == "WaitForFirstConsumer")
        #expect(status["progress"] == "N/A")
        #expect(status["claimName"] == "disk")
        #expect(world.condition("disk", "Bound")?["status"] == "False")
        #expect(world.condition("disk", "Bound")?["reason"] == "Pending")
        #expect(world.condition("disk", "Ready")?["status"] == "False")
        #expect(world.client.events(reason: "WaitForFirstConsumer").count == 1)
    }

    @Test func aSharedClassGetsReadWriteManyAndABlankSource() async throws {
        let world = DataVolumeWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest(
            "blank", source: ["blank": [:]], storage: ["storageClassName": "shared", "resources": ["requests": ["storage": "64Mi"]]]))
        try await world.reconcile("blank")
        let claim = try #require(world.claim("blank"))
        #expect(claim[path: ["spec", "accessModes"]] == ["ReadWriteMany"])
        #expect(claim[path: ["metadata", "annotations", CDINames.Annotation.source]] == "blank")
        #expect(claim[path: ["metadata", "annotations", CDINames.Annotation.endpoint]] == nil)
        try await world.reconcile("blank")
        #expect(world.dataVolume("blank")?[path: ["status", "phase"]] == "Pending")
    }

    @Test func theNodeAgentsAnnotationsBecomeThePhasesProgressAndConditions() async throws {
        let world = DataVolumeWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest("disk", source: ["http": ["url": "http://127.0.0.1/d"]]))
        try await world.reconcile("disk")

        world.setClaim("disk", phase: "Bound", annotations: [:])
        try await world.reconcile("disk")
        #expect(world.dataVolume("disk")?[path: ["status", "phase"]] == "PVCBound")
        #expect(world.condition("disk", "Bound")?["reason"] == "Bound")
        #expect(world.condition("disk", "Bound")?["message"] == "PVC disk Bound")

        world.setClaim("disk", phase: "Bound", annotations: [
            CDINames.Annotation.podPhase: "Running", CDINames.Annotation.progress: "45.20%", CDINames.Annotation.runningCondition: "true",
        ])
        try await world.reconcile("disk")
        #expect(world.dataVolume("disk")?[path: ["status", "phase"]] == "ImportInProgress")
        #expect(world.dataVolume("disk")?[path: ["status", "progress"]] == "45.20%")
        #expect(world.condition("disk", "Running")?["status"] == "True")
        #expect(world.client.events(reason: "ImportInProgress").first?["message"] == "Import into disk in progress")

        world.setClaim("disk", phase: "Bound", annotations: [
            CDINames.Annotation.podPhase: "Running", CDINames.Annotation.podRestarts: "1", CDINames.Annotation.runningCondition: "false",
            CDINames.Annotation.runningConditionReason: "Error", CDINames.Annotation.runningConditionMessage: "HTTPError: 503 Service Unavailable",
        ])
        try await world.reconcile("disk")
        #expect(world.dataVolume("disk")?[path: ["status", "restartCount"]] == 1)
        #expect(world.condition("disk", "Running")?["reason"] == "Error")
        #expect(world.client.events(reason: "Error").count == 1)

        world.setClaim("disk", phase: "Bound", annotations: [
            CDINames.Annotation.podPhase: "Succeeded", CDINames.Annotation.runningCondition: "false",
            CDINames.Annotation.runningConditionReason: "Completed", CDINames.Annotation.runningConditionMessage: "Import Complete",
        ])
        try await world.reconcile("disk")
        #expect(world.dataVolume("disk")?[path: ["status", "phase"]] == "Succeeded")
        #expect(world.dataVolume("disk")?[path: ["status", "progress"]] == "100.0%")
        #expect(world.condition("disk", "Ready")?["status"] == "True")
        #expect(world.condition("disk", "Running")?["reason"] == "Completed")
        #expect(world.client.events(reason: "ImportSucceeded").first?["message"] == "Successfully imported into PVC disk")
    }

    @Test func aFailedImportFailsTheDataVolumeWithTheImportersWords() async throws {
        let world = DataVolumeWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest("disk", source: ["http": ["url": "http://127.0.0.1/d"]]))
        try await world.reconcile("disk")
        world.setClaim("disk", phase: "Bound", annotations: [
            CDINames.Annotation.podPhase: "Failed", CDINames.Annotation.runningCondition: "false",
            CDINames.Annotation.runningConditionReason: "Error", CDINames.Annotation.runningConditionMessage: "HTTPError: 404 Not Found",
        ])
        try await world.reconcile("disk")
        #expect(world.dataVolume("disk")?[path: ["status", "phase"]] == "Failed")
        #expect(world.condition("disk", "Running")?["message"] == "HTTPError: 404 Not Found")
        #expect(world.condition("disk", "Ready")?["status"] == "False")
        let event = try #require(world.client.events(reason: "ImportFailed").first)
        #expect(event["type"] == "Warning")
        #expect(event["message"]?.stringValue?.contains("404 Not Found") == true)
    }

    @Test func sourcesNotImportedYetGetNoClaimAndSaySo() async throws {
        let world = DataVolumeWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest("reg", source: ["s3": ["url": "https://s3.example.org/b/disk.img"]]))
        try await world.reconcile("reg")
        #expect(world.claim("reg") == nil)
        #expect(world.dataVolume("reg")?[path: ["status", "phase"]] == "Pending")
        #expect(world.condition("reg", "Running")?["message"]?.stringValue?.contains("source.s3 is not imported yet") == true)

        var archive = dataVolumeManifest("tar", source: ["http": ["url": "http://127.0.0.1/d.tar"]])
        archive[path: ["spec", "contentType"]] = "archive"
        world.client.seed(DataVolumeController.path.inNamespace(namespace), archive)
        try await world.reconcile("tar")
        #expect(world.claim("tar") == nil)
        #expect(world.condition("tar", "Running")?["message"]?.stringValue?.contains("contentType archive is not imported yet") == true)
    }

    @Test func aClaimOfTheSameNameThatIsNotTheDataVolumesIsLeftAlone() async throws {
        let world = DataVolumeWorld()
        world.client.seed(StorageNames.claims.inNamespace(namespace), claimManifest("disk"))
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest("disk", source: ["blank": [:]]))
        try await world.reconcile("disk")
        #expect(world.claim("disk")?.controllerReference == nil)
        #expect(world.client.events(reason: "ErrResourceExists").count == 1)
    }

    @Test func aVMReportsProvisioningThenDataVolumeErrorFromItsDataVolumes() {
        let rules = VirtualMachineStatusRules.self
        #expect(rules.provisioningStatus(printable: "Starting", dataVolumePhases: ["ImportInProgress"], runStrategy: "Always") == "Provisioning")
        #expect(rules.provisioningStatus(printable: "Starting", dataVolumePhases: [nil], runStrategy: "Always") == "Provisioning")
        #expect(rules.provisioningStatus(printable: "Starting", dataVolumePhases: ["Succeeded", "Failed"], runStrategy: "Always") == "DataVolumeError")
        #expect(rules.provisioningStatus(printable: "Starting", dataVolumePhases: ["Succeeded"], runStrategy: "Always") == nil)
        #expect(rules.provisioningStatus(printable: "Running", dataVolumePhases: ["ImportInProgress"], runStrategy: "Always") == nil)
        #expect(rules.provisioningStatus(printable: "Stopped", dataVolumePhases: ["ImportInProgress"], runStrategy: "Halted") == nil)
    }
}

/// A VM with a dataVolumeTemplate: the VM controller creates the DataVolume (owned by the VM) and the VMI,
/// the VMI controller holds the VMI's pod until the DataVolume succeeded, and the VM reports Provisioning.
@Suite struct DataVolumeTemplateTests {
    @Test func theVMCreatesItsDataVolumeAndItsVMIWaitsForIt() async throws {
        let client = FakeAPIClient()
        let (vms, vmis, pods, nodes, dataVolumes) = (ObjectCache(), ObjectCache(), ObjectCache(), ObjectCache(), ObjectCache())
        let recorder = EventRecorder(client: client, component: "virtualmachine-controller", logger: quietLogger)
        let vmController = VirtualMachineController(client: client, vms: vms, vmis: vmis, dataVolumes: dataVolumes, recorder: recorder, logger: quietLogger)
        let vmiController = VirtualMachineInstanceController(
            client: client, vmis: vmis, pods: pods, nodes: nodes, dataVolumes: dataVolumes, recorder: recorder,
            configuration: .init(emulation: .disabled), logger: quietLogger)
        let sync = {
            vms.replace(with: client.objects(KubeVirt.virtualMachines))
            vmis.replace(with: client.objects(KubeVirt.virtualMachineInstances))
            pods.replace(with: client.objects(KubeVirt.pods))
            dataVolumes.replace(with: client.objects(DataVolumeController.path))
        }
        var manifest = vmManifest()
        manifest[path: ["spec", "dataVolumeTemplates"]] = [[
            "metadata": ["name": "root"], "spec": ["source": ["http": ["url": "http://127.0.0.1/d"]], "storage": ["resources": ["requests": ["storage": "1Gi"]]]],
        ]]
        manifest[path: ["spec", "template", "spec", "volumes"]] = [["name": "root", "dataVolume": ["name": "root"]]]
        manifest[path: ["spec", "template", "spec", "domain", "devices", "disks"]] = [["name": "root", "disk": ["bus": "virtio"]]]
        client.seed(vmPath, manifest)
        let key = ObjectKey(namespace: namespace, name: "testvm")

        sync()
        _ = try await vmController.reconcile(key)
        let dataVolume = try #require(client.object(DataVolumeController.path.inNamespace(namespace).named("root")))
        #expect(dataVolume.controllerReference?.kind == "VirtualMachine")
        #expect(dataVolume[path: ["spec", "source", "http", "url"]] == "http://127.0.0.1/d")
        #expect(client.events(reason: "SuccessfulDataVolumeCreate").count == 1)
        #expect(client.object(vmiPath.named("testvm")) != nil)

        sync()
        _ = try await vmiController.reconcile(key)
        #expect(client.objects(podPath).isEmpty)
        let waiting = client.object(vmiPath.named("testvm"))?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "DataVolumesReady" }
        #expect(waiting?["status"] == "Unknown")
        #expect(waiting?["reason"] == "NotAllDVsReady")
        sync()
        _ = try await vmController.reconcile(key)
        #expect(client.object(vmPath.named("testvm"))?[path: ["status", "printableStatus"]] == "Provisioning")

        var succeeded = dataVolume
        succeeded["status"] = ["phase": "Succeeded", "progress": "100.0%", "conditions": [["type": "Ready", "status": "True"]]]
        client.seed(DataVolumeController.path.inNamespace(namespace), succeeded)
        sync()
        _ = try await vmiController.reconcile(key)
        let pod = try #require(client.objects(podPath).first)
        #expect(pod[path: ["spec", "volumes"]] == [["name": "root", "persistentVolumeClaim": ["claimName": "root"]]])
        let ready = client.object(vmiPath.named("testvm"))?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "DataVolumesReady" }
        #expect(ready?["status"] == "True")
        #expect(ready?["reason"] == "AllDVsReady")

        var failed = succeeded
        failed["status"] = ["phase": "Failed"]
        client.seed(DataVolumeController.path.inNamespace(namespace), failed)
        sync()
        _ = try await vmController.reconcile(key)
        #expect(client.object(vmPath.named("testvm"))?[path: ["status", "printableStatus"]] == "DataVolumeError")
    }
}
