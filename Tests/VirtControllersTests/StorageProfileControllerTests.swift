import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// The fake API with the built-in classes, and the StorageProfile controller over caches filled from it.
struct StorageProfileWorld {
    let client = FakeAPIClient()
    let classes = ObjectCache()
    let profiles = ObjectCache()
    let controller: StorageProfileController

    init() {
        controller = StorageProfileController(client: client, classes: classes, profiles: profiles, logger: quietLogger)
        client.seed(StorageNames.classes, storageClass(StorageNames.localClass, provisioner: StorageNames.localProvisioner,
                                                       binding: StorageNames.waitForFirstConsumer, isDefault: true))
        client.seed(StorageNames.classes, storageClass(StorageNames.sharedClass, provisioner: StorageNames.sharedProvisioner,
                                                       binding: StorageNames.immediate))
    }

    func reconcile(_ name: String) async throws {
        sync()
        _ = try await controller.reconcile(ObjectKey(namespace: nil, name: name))
        sync()
    }

    func sync() {
        classes.replace(with: client.objects(StorageNames.classes))
        profiles.replace(with: client.objects(StorageProfileController.path))
    }

    func profile(_ name: String) -> JSONValue? { client.object(StorageProfileController.path.named(name)) }

    /// Sets the profile's spec, as a user's edit would.
    func editSpec(_ name: String, _ spec: JSONValue) {
        guard var profile = profile(name) else { return }
        profile["spec"] = spec
        client.seed(StorageProfileController.path, profile)
    }
}

let rwoFilesystem: JSONValue = ["accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"]
let rwoBlock: JSONValue = ["accessModes": ["ReadWriteOnce"], "volumeMode": "Block"]

@Suite struct StorageProfileControllerTests {
    @Test func eachClassGetsAProfileWithItsProvisionersDefaults() async throws {
        let world = StorageProfileWorld()
        try await world.reconcile("local")
        try await world.reconcile("shared")

        let local = try #require(world.profile("local"))
        #expect(local["spec"] == [:])
        #expect(local.controllerReference == nil)
        #expect(local[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["kind"] == "StorageClass")
        #expect(local[path: ["status", "storageClass"]] == "local")
        #expect(local[path: ["status", "provisioner"]] == "swiftvirt.io/local")
        #expect(local[path: ["status", "claimPropertySets"]] == [rwoFilesystem, rwoBlock])
        #expect(local[path: ["status", "cloneStrategy"]] == "copy")
        #expect(local[path: ["status", "dataImportCronSourceFormat"]] == "pvc")

        let shared = try #require(world.profile("shared"))
        #expect(shared[path: ["status", "claimPropertySets"]]?.arrayValue?.first == ["accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"])
        #expect(shared[path: ["status", "provisioner"]] == "swiftvirt.io/shared")
    }

    @Test func anUnknownProvisionerGetsNoClaimPropertySets() async throws {
        let world = StorageProfileWorld()
        world.client.seed(StorageNames.classes, storageClass("nfs", provisioner: "example.com/nfs", binding: StorageNames.immediate))
        try await world.reconcile("nfs")
        let profile = try #require(world.profile("nfs"))
        #expect(profile[path: ["status", "provisioner"]] == "example.com/nfs")
        #expect(profile[path: ["status", "claimPropertySets"]] == nil)
        #expect(profile[path: ["status", "cloneStrategy"]] == nil)
    }

    @Test func theStatusReflectsAnEditedSpec() async throws {
        let world = StorageProfileWorld()
        try await world.reconcile("local")
        world.editSpec("local", ["claimPropertySets": [rwoBlock], "cloneStrategy": "csi-clone", "dataImportCronSourceFormat": "snapshot"])
        try await world.reconcile("local")
        let profile = try #require(world.profile("local"))
        #expect(profile[path: ["status", "claimPropertySets"]] == [rwoBlock])
        #expect(profile[path: ["status", "cloneStrategy"]] == "csi-clone")
        #expect(profile[path: ["status", "dataImportCronSourceFormat"]] == "snapshot")

        // Emptied again, the built-in sets come back.
        world.editSpec("local", [:])
        try await world.reconcile("local")
        #expect(world.profile("local")?[path: ["status", "claimPropertySets"]] == [rwoFilesystem, rwoBlock])
    }

    @Test func aProfileWithoutItsClassIsDeleted() async throws {
        let world = StorageProfileWorld()
        try await world.reconcile("shared")
        #expect(world.profile("shared") != nil)
        _ = try await world.client.delete(StorageNames.classes.named("shared"), propagationPolicy: nil, gracePeriodSeconds: nil)
        try await world.reconcile("shared")
        #expect(world.profile("shared") == nil)
        #expect(world.profile("local") == nil)
    }

    @Test func aProfileThatIsUpToDateIsNotWritten() async throws {
        let world = StorageProfileWorld()
        try await world.reconcile("local")
        world.client.clearLog()
        try await world.reconcile("local")
        #expect(world.client.log.isEmpty)
    }
}

/// The DataVolume controller completes `spec.storage` from the class' StorageProfile.
@Suite struct DataVolumeStorageProfileTests {
    /// A DataVolume world whose controller reads the profiles the StorageProfile controller writes.
    struct Both {
        let profiles = StorageProfileWorld()
        let dataVolumes = ObjectCache()
        let claims = ObjectCache()
        let controller: DataVolumeController

        init() {
            controller = DataVolumeController(
                client: profiles.client, dataVolumes: dataVolumes, claims: claims, classes: profiles.classes, profiles: profiles.profiles,
                recorder: EventRecorder(client: profiles.client, component: "datavolume-controller", logger: quietLogger), logger: quietLogger)
        }

        var client: FakeAPIClient { profiles.client }

        func reconcile(_ name: String) async throws {
            profiles.sync()
            dataVolumes.replace(with: client.objects(DataVolumeController.path))
            claims.replace(with: client.objects(StorageNames.claims))
            _ = try await controller.reconcile(ObjectKey(namespace: namespace, name: name))
        }

        func create(_ name: String, storage: JSONValue) {
            client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest(name, source: ["blank": [:]], storage: storage))
        }

        func claim(_ name: String) -> JSONValue? { client.object(StorageNames.claims.inNamespace(namespace).named(name)) }
        func dataVolume(_ name: String) -> JSONValue? { client.object(DataVolumeController.path.inNamespace(namespace).named(name)) }
    }

    static let size: JSONValue = ["requests": ["storage": "64Mi"]]

    @Test func theFirstClaimPropertySetOfAnEditedProfileIsUsed() async throws {
        let world = Both()
        try await world.profiles.reconcile("local")
        world.profiles.editSpec("local", ["claimPropertySets": [rwoBlock, rwoFilesystem]])
        try await world.profiles.reconcile("local")
        world.create("disk", storage: ["resources": Self.size])
        try await world.reconcile("disk")
        let claim = try #require(world.claim("disk"))
        #expect(claim[path: ["spec", "storageClassName"]] == "local")
        #expect(claim[path: ["spec", "accessModes"]] == ["ReadWriteOnce"])
        #expect(claim[path: ["spec", "volumeMode"]] == "Block")
    }

    @Test func aVolumeModeAloneTakesTheAccessModesOfTheFirstSetWithThatMode() async throws {
        let world = Both()
        try await world.profiles.reconcile("shared")
        world.profiles.editSpec("shared", ["claimPropertySets": [
            ["accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"], ["accessModes": ["ReadOnlyMany"], "volumeMode": "Block"],
        ]])
        try await world.profiles.reconcile("shared")
        world.create("disk", storage: ["storageClassName": "shared", "volumeMode": "Block", "resources": Self.size])
        try await world.reconcile("disk")
        let claim = try #require(world.claim("disk"))
        #expect(claim[path: ["spec", "accessModes"]] == ["ReadOnlyMany"])
        #expect(claim[path: ["spec", "volumeMode"]] == "Block")
    }

    @Test func accessModesAloneTakeTheVolumeModeOfAMatchingSet() async throws {
        let world = Both()
        try await world.profiles.reconcile("local")
        world.profiles.editSpec("local", ["claimPropertySets": [
            ["accessModes": ["ReadWriteMany"], "volumeMode": "Block"], rwoFilesystem,
        ]])
        try await world.profiles.reconcile("local")
        world.create("disk", storage: ["accessModes": ["ReadWriteMany"], "resources": Self.size])
        try await world.reconcile("disk")
        #expect(world.claim("disk")?[path: ["spec", "volumeMode"]] == "Block")
    }

    @Test func aClassWithoutClaimPropertySetsNeedsTheAccessModeNamed() async throws {
        let world = Both()
        world.client.seed(StorageNames.classes, storageClass("nfs", provisioner: "example.com/nfs", binding: StorageNames.immediate))
        try await world.profiles.reconcile("nfs")
        world.create("disk", storage: ["storageClassName": "nfs", "resources": Self.size])
        try await world.reconcile("disk")
        #expect(world.claim("disk") == nil)
        let dataVolume = try #require(world.dataVolume("disk"))
        #expect(dataVolume[path: ["status", "phase"]] == "Pending")
        let bound = dataVolume[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Bound" }
        #expect(bound?["reason"] == "ErrClaimNotValid")
        #expect(bound?["message"]?.stringValue?.hasPrefix("no accessMode specified in StorageProfile nfs") == true)
        #expect(world.client.events(reason: "ErrClaimNotValid").count == 1)

        // Again: no second event for the same reason.
        try await world.reconcile("disk")
        #expect(world.client.events(reason: "ErrClaimNotValid").count == 1)

        // Once the profile has claim property sets, the same DataVolume gets its claim.
        world.profiles.editSpec("nfs", ["claimPropertySets": [["accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"]]])
        try await world.profiles.reconcile("nfs")
        try await world.reconcile("disk")
        #expect(world.claim("disk")?[path: ["spec", "accessModes"]] == ["ReadWriteMany"])
        #expect(world.claim("disk")?[path: ["spec", "volumeMode"]] == "Filesystem")
    }

    @Test func namedAccessModesNeedNoClaimPropertySets() async throws {
        let world = Both()
        world.client.seed(StorageNames.classes, storageClass("nfs", provisioner: "example.com/nfs", binding: StorageNames.immediate))
        try await world.profiles.reconcile("nfs")
        world.create("disk", storage: ["storageClassName": "nfs", "accessModes": ["ReadWriteOnce"], "resources": Self.size])
        try await world.reconcile("disk")
        // The volume mode CDI falls back to.
        #expect(world.claim("disk")?[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(world.claim("disk")?[path: ["spec", "accessModes"]] == ["ReadWriteOnce"])
    }

    @Test func noClassAtAllIsCDIsOtherMessage() async throws {
        let world = Both()
        world.client.state.withLock { state in state.objects = state.objects.filter { $0.key.resource != "storageclasses" } }
        world.create("disk", storage: ["resources": Self.size])
        try await world.reconcile("disk")
        let bound = world.dataVolume("disk")?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Bound" }
        #expect(bound?["message"] == "PVC spec is missing accessMode and no storageClass to choose profile")
        #expect(world.claim("disk") == nil)
    }
}
