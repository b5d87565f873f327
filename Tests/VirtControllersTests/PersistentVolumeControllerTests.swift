import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// The fake API and the PersistentVolume controller and scheduler over caches filled from it.
struct StorageWorld {
    let client = FakeAPIClient()
    let claims = ObjectCache()
    let volumes = ObjectCache()
    let classes = ObjectCache()
    let pods = ObjectCache()
    let nodes = ObjectCache()
    let controller: PersistentVolumeController
    let scheduler: Scheduler

    init() {
        controller = PersistentVolumeController(
            client: client, claims: claims, volumes: volumes, classes: classes, pods: pods,
            recorder: EventRecorder(client: client, component: "persistentvolume-controller", logger: quietLogger), logger: quietLogger)
        scheduler = Scheduler(
            client: client, pods: pods, nodes: nodes,
            recorder: EventRecorder(client: client, component: "default-scheduler", logger: quietLogger),
            volumeBinding: VolumeBinding(claims: claims, volumes: volumes, classes: classes), logger: quietLogger)
        client.seed(StorageNames.classes, storageClass(StorageNames.localClass, provisioner: StorageNames.localProvisioner,
                                                       binding: StorageNames.waitForFirstConsumer, isDefault: true))
        client.seed(StorageNames.classes, storageClass(StorageNames.sharedClass, provisioner: StorageNames.sharedProvisioner,
                                                       binding: StorageNames.immediate))
    }

    func sync() {
        claims.replace(with: client.objects(StorageNames.claims))
        volumes.replace(with: client.objects(StorageNames.volumes))
        classes.replace(with: client.objects(StorageNames.classes))
        pods.replace(with: client.objects(KubeVirt.pods))
        nodes.replace(with: client.objects(KubeVirt.nodes))
    }

    /// Reconciles the claim, then every volume, until nothing changes (what the informers' events would do).
    func settle(_ claim: String) async throws {
        for _ in 0..<4 {
            sync()
            _ = try await controller.reconcile(ObjectKey(namespace: namespace, name: claim))
            sync()
            for volume in client.objects(StorageNames.volumes) {
                _ = try await controller.reconcile(ObjectKey(namespace: nil, name: volume.metadataName ?? ""))
            }
        }
        sync()
    }

    func claim(_ name: String) -> JSONValue? { client.object(StorageNames.claims.inNamespace(namespace).named(name)) }
    func volume(_ name: String) -> JSONValue? { client.object(StorageNames.volumes.named(name)) }
}

func storageClass(_ name: String, provisioner: String, binding: String, isDefault: Bool = false, reclaim: String = "Delete") -> JSONValue {
    var object: JSONValue = [
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": .string(name)],
        "provisioner": .string(provisioner), "volumeBindingMode": .string(binding), "reclaimPolicy": .string(reclaim),
    ]
    if isDefault { object[path: ["metadata", "annotations"]] = [StorageNames.defaultClassAnnotation: "true"] }
    return object
}

func claimManifest(_ name: String, size: String = "1Gi", modes: [String] = ["ReadWriteOnce"], className: String? = nil,
                   volumeMode: String = "Filesystem", volumeName: String? = nil) -> JSONValue {
    var spec: JSONValue = [
        "accessModes": .array(modes.map { .string($0) }), "resources": ["requests": ["storage": .string(size)]],
        "volumeMode": .string(volumeMode),
    ]
    if let className { spec["storageClassName"] = .string(className) }
    if let volumeName { spec["volumeName"] = .string(volumeName) }
    return ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": .string(name)], "spec": spec]
}

func volumeManifest(_ name: String, size: String = "2Gi", modes: [String] = ["ReadWriteOnce"], className: String = "",
                    volumeMode: String = "Filesystem", reclaim: String = "Retain", node: String? = nil) -> JSONValue {
    var spec: JSONValue = [
        "capacity": ["storage": .string(size)], "accessModes": .array(modes.map { .string($0) }),
        "storageClassName": .string(className), "volumeMode": .string(volumeMode),
        "persistentVolumeReclaimPolicy": .string(reclaim), "hostPath": ["path": .string("/srv/volumes/\(name)")],
    ]
    if let node {
        spec["nodeAffinity"] = ["required": ["nodeSelectorTerms": [["matchExpressions": [[
            "key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]]]]]]
    }
    return ["apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": .string(name)], "spec": spec]
}

func claimPod(_ name: String, claim: String, phase: String? = nil) -> JSONValue {
    podManifest(name: name) { pod in
        pod[path: ["spec", "volumes"]] = [["name": "root", "persistentVolumeClaim": ["claimName": .string(claim)]]]
        if let phase { pod[path: ["status", "phase"]] = .string(phase) }
    }
}

@Suite struct PersistentVolumeControllerTests {
    let claims = StorageNames.claims.inNamespace(namespace)

    @Test func staticVolumeBindsByClassSizeAndModes() async throws {
        let world = StorageWorld()
        world.client.seed(StorageNames.volumes, volumeManifest("too-small", size: "512Mi"))
        world.client.seed(StorageNames.volumes, volumeManifest("block", volumeMode: "Block"))
        world.client.seed(StorageNames.volumes, volumeManifest("rox", modes: ["ReadOnlyMany"]))
        world.client.seed(StorageNames.volumes, volumeManifest("big", size: "10Gi"))
        world.client.seed(StorageNames.volumes, volumeManifest("fits", size: "2Gi"))
        world.client.seed(claims, claimManifest("data", className: ""))
        try await world.settle("data")

        let claim = try #require(world.claim("data"))
        #expect(claim[path: ["spec", "volumeName"]] == "fits")
        #expect(claim[path: ["status", "phase"]] == "Bound")
        #expect(claim[path: ["status", "capacity", "storage"]] == "2Gi")
        #expect(claim[path: ["status", "accessModes"]] == ["ReadWriteOnce"])
        #expect(claim[path: ["metadata", "annotations", StorageNames.bindCompletedAnnotation]] == "yes")
        #expect(claim[path: ["metadata", "annotations", StorageNames.boundByControllerAnnotation]] == "yes")
        #expect(claim.metadataFinalizers == [StorageNames.pvcProtectionFinalizer])
        let volume = try #require(world.volume("fits"))
        #expect(volume[path: ["status", "phase"]] == "Bound")
        #expect(volume[path: ["spec", "claimRef", "name"]] == "data")
        #expect(volume[path: ["spec", "claimRef", "uid"]] == claim[path: ["metadata", "uid"]])
        for other in ["too-small", "block", "rox", "big"] {
            #expect(world.volume(other)?[path: ["status", "phase"]] == "Available", "\(other)")
        }
    }

    @Test func volumeNameBindsThatVolume() async throws {
        let world = StorageWorld()
        world.client.seed(StorageNames.volumes, volumeManifest("fits"))
        world.client.seed(StorageNames.volumes, volumeManifest("chosen", size: "5Gi"))
        world.client.seed(claims, claimManifest("data", className: "", volumeName: "chosen"))
        try await world.settle("data")
        #expect(world.claim("data")?[path: ["status", "phase"]] == "Bound")
        #expect(world.volume("chosen")?[path: ["spec", "claimRef", "name"]] == "data")
        #expect(world.volume("fits")?[path: ["spec", "claimRef"]] == nil)
        // Bound by the user's volumeName, not by the controller.
        #expect(world.claim("data")?[path: ["metadata", "annotations", StorageNames.boundByControllerAnnotation]] == nil)
    }

    @Test func aVolumePreBoundToAClaimWaitsForItAndBindsOnlyIt() async throws {
        let world = StorageWorld()
        var volume = volumeManifest("reserved", reclaim: "Delete")
        volume[path: ["spec", "claimRef"]] = ["namespace": "default", "name": "later"]
        world.client.seed(StorageNames.volumes, volume)
        try await world.settle("nobody")
        #expect(world.volume("reserved")?[path: ["status", "phase"]] == "Available")
        world.client.seed(claims, claimManifest("other", className: ""))
        try await world.settle("other")
        #expect(world.claim("other")?[path: ["status", "phase"]] == "Pending")
        world.client.seed(claims, claimManifest("later", className: ""))
        try await world.settle("later")
        #expect(world.claim("later")?[path: ["spec", "volumeName"]] == "reserved")
        #expect(world.volume("reserved")?[path: ["status", "phase"]] == "Bound")
    }

    @Test func noClassAndNoVolumeStaysPendingWithFailedBinding() async throws {
        let world = StorageWorld()
        world.client.seed(claims, claimManifest("data", className: ""))
        try await world.settle("data")
        #expect(world.claim("data")?[path: ["status", "phase"]] == "Pending")
        #expect(world.client.events(reason: "FailedBinding").first?["message"] == "no persistent volumes available for this claim and no storage class is set")
    }

    @Test func defaultClassWaitsForFirstConsumerThenProvisionsOnTheSelectedNode() async throws {
        let world = StorageWorld()
        world.client.seed(claims, claimManifest("root"))
        try await world.settle("root")
        var claim = try #require(world.claim("root"))
        #expect(claim[path: ["spec", "storageClassName"]] == .string(StorageNames.localClass))
        #expect(claim[path: ["status", "phase"]] == "Pending")
        #expect(world.client.events(reason: "WaitForFirstConsumer").first?["message"] == "waiting for first consumer to be created before binding")
        #expect(world.client.objects(StorageNames.volumes).isEmpty)

        // The scheduler places a pod that uses it: it selects the node and waits for the binding.
        world.client.seed(KubeVirt.nodes, nodeManifest(name: "node-a", labels: ["kubernetes.io/hostname": "node-a"]))
        world.client.seed(podPath, claimPod("launcher", claim: "root"))
        world.sync()
        let result = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "launcher"))
        #expect(result == .requeue(after: .seconds(1)))
        #expect(world.client.object(podPath.named("launcher"))?[path: ["spec", "nodeName"]] == nil)
        #expect(world.claim("root")?[path: ["metadata", "annotations", StorageNames.selectedNodeAnnotation]] == "node-a")

        try await world.settle("root")
        claim = try #require(world.claim("root"))
        let uid = try #require(claim.metadataUID)
        #expect(claim[path: ["status", "phase"]] == "Bound")
        #expect(claim[path: ["spec", "volumeName"]] == .string("pvc-\(uid)"))
        #expect(claim[path: ["metadata", "annotations", StorageNames.storageProvisionerAnnotation]] == .string(StorageNames.localProvisioner))
        let volume = try #require(world.volume("pvc-\(uid)"))
        #expect(volume[path: ["status", "phase"]] == "Bound")
        #expect(volume[path: ["spec", "csi", "driver"]] == .string(StorageNames.localProvisioner))
        #expect(volume[path: ["spec", "capacity", "storage"]] == "1Gi")
        #expect(volume[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Delete")
        let terms = volume[path: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]]?.arrayValue ?? []
        #expect(terms.first?["matchExpressions"]?.arrayValue?.first?["values"] == ["node-a"])
        #expect(volume[path: ["metadata", "annotations", StorageNames.provisionedByAnnotation]] == .string(StorageNames.localProvisioner))
        #expect(volume.metadataFinalizers == [StorageNames.volumeReclaimFinalizer])
        #expect(world.client.events(reason: "ProvisioningSucceeded").first?["message"] == .string("Successfully provisioned volume pvc-\(uid)"))

        // Now bound, the pod goes to the volume's node.
        world.sync()
        _ = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "launcher"))
        #expect(world.client.object(podPath.named("launcher"))?[path: ["spec", "nodeName"]] == "node-a")
    }

    @Test func sharedClassProvisionsImmediately() async throws {
        let world = StorageWorld()
        world.client.seed(claims, claimManifest("disk", modes: ["ReadWriteMany"], className: StorageNames.sharedClass, volumeMode: "Block"))
        try await world.settle("disk")
        let claim = try #require(world.claim("disk"))
        #expect(claim[path: ["status", "phase"]] == "Bound")
        let volume = try #require(world.volume(claim[path: ["spec", "volumeName"]]?.stringValue ?? ""))
        #expect(volume[path: ["spec", "csi", "driver"]] == .string(StorageNames.sharedProvisioner))
        #expect(volume[path: ["spec", "volumeMode"]] == "Block")
        #expect(volume[path: ["spec", "accessModes"]] == ["ReadWriteMany"])
        #expect(volume[path: ["spec", "nodeAffinity"]] == nil)
    }

    @Test func releasedVolumeIsDeletedOrRetainedByPolicy() async throws {
        let world = StorageWorld()
        world.client.seed(StorageNames.volumes, volumeManifest("kept", reclaim: "Retain"))
        world.client.seed(claims, claimManifest("a", className: ""))
        try await world.settle("a")
        #expect(world.volume("kept")?[path: ["status", "phase"]] == "Bound")
        _ = try await world.client.delete(claims.named("a"), propagationPolicy: nil, gracePeriodSeconds: nil)
        try await world.settle("a")
        // Still held by pvc-protection? No pod uses it, so the finalizer goes and the claim with it.
        #expect(world.claim("a") == nil)
        #expect(world.volume("kept")?[path: ["status", "phase"]] == "Released")

        world.client.seed(claims, claimManifest("b", className: StorageNames.sharedClass))
        try await world.settle("b")
        let name = try #require(world.claim("b")?[path: ["spec", "volumeName"]]?.stringValue)
        _ = try await world.client.delete(claims.named("b"), propagationPolicy: nil, gracePeriodSeconds: nil)
        try await world.settle("b")
        // Delete: the volume is deleted, held by the node agent's finalizer until its files are gone.
        let deleted = try #require(world.volume(name))
        #expect(deleted.metadataDeletionTimestamp != nil)
        #expect(deleted[path: ["status", "phase"]] == "Released")
    }

    @Test func aGrownClaimGrowsItsProvisionedVolumeWhenTheClassAllowsExpansion() async throws {
        let world = StorageWorld()
        var expandable = storageClass("grow", provisioner: StorageNames.sharedProvisioner, binding: StorageNames.immediate)
        expandable["allowVolumeExpansion"] = true
        world.client.seed(StorageNames.classes, expandable)
        world.client.seed(claims, claimManifest("a", className: "grow"))
        world.client.seed(claims, claimManifest("b", className: StorageNames.sharedClass))
        try await world.settle("a")
        try await world.settle("b")
        for name in ["a", "b"] {
            guard var claim = world.claim(name) else { Issue.record("claim \(name) is gone"); continue }
            claim[path: ["spec", "resources", "requests", "storage"]] = "3Gi"
            world.client.seed(claims, claim)
            try await world.settle(name)
        }
        let a = try #require(world.claim("a"))
        #expect(a[path: ["status", "capacity", "storage"]] == "3Gi")
        #expect(world.volume(a[path: ["spec", "volumeName"]]?.stringValue ?? "")?[path: ["spec", "capacity", "storage"]] == "3Gi")
        #expect(world.client.events(reason: "VolumeResizeSuccessful").first?["message"] == "Resize volume succeeded")
        // The built-in class in this world does not allow it: the volume keeps its size and a warning says why.
        let b = try #require(world.claim("b"))
        #expect(b[path: ["status", "capacity", "storage"]] == "1Gi")
        #expect(world.client.events(reason: "VolumeResizeFailed").first?["message"]?.stringValue?.contains("does not set allowVolumeExpansion: true") == true)
    }

    @Test func protectionHoldsAClaimWhileAPodUsesIt() async throws {
        let world = StorageWorld()
        world.client.seed(StorageNames.volumes, volumeManifest("pv"))
        world.client.seed(claims, claimManifest("root", className: ""))
        world.client.seed(podPath, claimPod("launcher", claim: "root", phase: "Running"))
        try await world.settle("root")
        _ = try await world.client.delete(claims.named("root"), propagationPolicy: nil, gracePeriodSeconds: nil)
        try await world.settle("root")
        let held = try #require(world.claim("root"))
        #expect(held.metadataDeletionTimestamp != nil)
        #expect(held.metadataFinalizers == [StorageNames.pvcProtectionFinalizer])

        // A finished pod no longer holds it.
        world.client.seed(podPath, claimPod("launcher", claim: "root", phase: "Succeeded"))
        try await world.settle("root")
        #expect(world.claim("root") == nil)
    }

    @Test func schedulerKeepsPodsOffUntilImmediateClaimsBindAndHonoursVolumeAffinity() async throws {
        let world = StorageWorld()
        world.client.seed(KubeVirt.nodes, nodeManifest(name: "node-a", labels: ["kubernetes.io/hostname": "node-a"]))
        world.client.seed(KubeVirt.nodes, nodeManifest(name: "node-b", labels: ["kubernetes.io/hostname": "node-b"]))
        world.client.seed(claims, claimManifest("root", className: "manual"))
        world.client.seed(StorageNames.classes, storageClass("manual", provisioner: "kubernetes.io/no-provisioner", binding: StorageNames.immediate))
        world.client.seed(podPath, claimPod("launcher", claim: "root"))
        world.sync()
        _ = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "launcher"))
        let pending = try #require(world.client.object(podPath.named("launcher")))
        #expect(pending[path: ["spec", "nodeName"]] == nil)
        let condition = pending[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "PodScheduled" }
        #expect(condition?["message"] == "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.")

        world.client.seed(StorageNames.volumes, volumeManifest("on-b", className: "manual", node: "node-b"))
        try await world.settle("root")
        #expect(world.claim("root")?[path: ["status", "phase"]] == "Bound")
        world.sync()
        _ = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "launcher"))
        #expect(world.client.object(podPath.named("launcher"))?[path: ["spec", "nodeName"]] == "node-b")
    }

    @Test func missingClaimKeepsThePodOff() async throws {
        let world = StorageWorld()
        world.client.seed(KubeVirt.nodes, nodeManifest(name: "node-a"))
        world.client.seed(podPath, claimPod("launcher", claim: "absent"))
        world.sync()
        _ = try await world.scheduler.reconcile(ObjectKey(namespace: namespace, name: "launcher"))
        let pod = try #require(world.client.object(podPath.named("launcher")))
        let condition = pod[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "PodScheduled" }
        #expect(condition?["message"] == "0/1 nodes are available: persistentvolumeclaim \"absent\" not found.")
    }

    @Test func launcherPodCarriesTheVMIsClaims() throws {
        let vmi: VirtualMachineInstance = try vmiManifest { vmi in
            vmi[path: ["metadata", "uid"]] = "uid-1"
            vmi[path: ["metadata", "namespace"]] = "default"
            vmi[path: ["spec", "volumes"]] = [
                ["name": "root", "persistentVolumeClaim": ["claimName": "root-disk"]],
                ["name": "data", "persistentVolumeClaim": ["claimName": "shared-data", "readOnly": true]],
                ["name": "seed", "cloudInitNoCloud": ["userData": "#cloud-config"]],
            ]
        }.decoded()
        let pod = try LauncherPod.build(for: vmi, options: .init(requestKVM: false, requireSchedulableNodeLabel: false, cpuAllocationRatio: 10, image: nil))
        #expect(pod.spec?.volumes == [
            ["name": "root", "persistentVolumeClaim": ["claimName": "root-disk"]],
            ["name": "data", "persistentVolumeClaim": ["claimName": "shared-data", "readOnly": true]],
        ])
    }
}
