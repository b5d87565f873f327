import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtError
import VirtReconcile
import VirtTestSupport

/// CDI's `cdi.kubevirt.io/applyStorageProfile` label on a PVC: the PersistentVolume controller completes the
/// claim's missing modes from its class' StorageProfile (the same rules as a DataVolume's `spec.storage`),
/// and a class whose profile has nothing to give leaves the claim Pending with CDI's ErrClaimNotValid.
@Suite struct ApplyStorageProfileTests {
    let claims = StorageNames.claims.inNamespace(namespace)

    static func labelled(_ name: String, className: String, accessModes: [String]? = nil, volumeMode: String? = nil) -> JSONValue {
        var spec: JSONValue = ["storageClassName": .string(className), "resources": ["requests": ["storage": "1Gi"]]]
        if let accessModes { spec["accessModes"] = .array(accessModes.map { .string($0) }) }
        if let volumeMode { spec["volumeMode"] = .string(volumeMode) }
        return ["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": .string(name), "labels": .object([StorageProfile.applyLabel: "true"])], "spec": spec]
    }

    @Test func aLabelledClaimGetsItsModesFromTheProfileAndBinds() async throws {
        let world = StorageWorld()
        world.client.seed(claims, Self.labelled("whole", className: StorageNames.sharedClass))
        world.client.seed(claims, Self.labelled("block", className: StorageNames.sharedClass, volumeMode: StorageProfile.volumeModeFromProfile))
        world.client.seed(claims, Self.labelled("rwx-block", className: StorageNames.sharedClass, volumeMode: "Block"))
        for name in ["whole", "block", "rwx-block"] { try await world.settle(name) }

        let whole = try #require(world.claim("whole"))
        #expect(whole[path: ["spec", "accessModes"]] == ["ReadWriteMany"])
        #expect(whole[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(whole[path: ["status", "phase"]] == "Bound")
        // FromStorageProfile is the profile's first set, as a missing volume mode is.
        #expect(world.claim("block")?[path: ["spec", "volumeMode"]] == "Filesystem")
        let block = try #require(world.claim("rwx-block"))
        #expect(block[path: ["spec", "accessModes"]] == ["ReadWriteMany"])
        #expect(block[path: ["spec", "volumeMode"]] == "Block")
        let volume = try #require(world.volume(block[path: ["spec", "volumeName"]]?.stringValue ?? ""))
        #expect(volume[path: ["spec", "volumeMode"]] == "Block")
    }

    @Test func aClassWhoseProfileHasNoClaimPropertySetsLeavesTheClaimPendingWithTheDataVolumesError() async throws {
        let world = StorageWorld()
        world.client.seed(StorageNames.classes, storageClass("nfs", provisioner: "example.com/nfs", binding: StorageNames.immediate))
        world.client.seed(claims, Self.labelled("nfs-disk", className: "nfs"))
        try await world.settle("nfs-disk")
        let claim = try #require(world.claim("nfs-disk"))
        #expect(claim[path: ["status", "phase"]] == "Pending")
        #expect(claim[path: ["spec", "accessModes"]] == nil)
        let messages = world.client.events(reason: "ErrClaimNotValid").compactMap { $0["message"]?.stringValue }
        #expect(messages.first == "no accessMode specified in StorageProfile nfs; set spec.accessModes or the StorageProfile's spec.claimPropertySets")
    }

    @Test func completionIsTheDataVolumesRules() throws {
        let sets = StorageProfile.builtInDefaults(provisioner: StorageNames.localProvisioner).claimPropertySets
        var onlyAccess: JSONValue = ["accessModes": ["ReadWriteOnce"]]
        try StorageProfile.completeClaimModes(&onlyAccess, className: "local", field: "spec", sets: sets)
        #expect(onlyAccess["volumeMode"] == "Filesystem")
        var onlyBlock: JSONValue = ["volumeMode": "Block"]
        try StorageProfile.completeClaimModes(&onlyBlock, className: "local", field: "spec", sets: sets)
        #expect(onlyBlock == ["accessModes": ["ReadWriteOnce"], "volumeMode": "Block"])
        var none: JSONValue = [:]
        let error = try #require(throws: VirtError.self) {
            try StorageProfile.completeClaimModes(&none, className: "nfs", field: "spec.storage", sets: [])
        }
        #expect(error.code == .invalid)
        #expect(error.message.hasPrefix("no accessMode specified in StorageProfile nfs; set spec.storage.accessModes"))
    }
}
