import Foundation
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

extension PersistentVolumeController {
    /// One pass over a volume: its phase from its claim, and reclaim once the claim is gone.
    func syncVolume(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var object = volumes.get(key), object.metadataUID != nil else { return .done }
        if object.metadataDeletionTimestamp != nil { return .done }  // the node agent removes its files
        let ref = object[path: ["spec", "claimRef"]]
        guard let ref, ref != .null else {
            _ = try await setVolumePhase(object, "Available")
            return .done
        }
        let claimKey = ObjectKey(namespace: ref["namespace"]?.stringValue ?? "default", name: ref["name"]?.stringValue ?? "")
        if let claim = claims.get(claimKey), Self.refers(ref, to: claim) {
            // A claim that names the volume, or one the controller is binding (its pass writes both sides).
            _ = try await setVolumePhase(object, "Bound")
            return .done
        }
        if (ref["uid"]?.stringValue ?? "").isEmpty {
            // Pre-bound by its creator to a claim that does not exist yet: it waits for that claim.
            _ = try await setVolumePhase(object, "Available")
            return .done
        }
        if object[path: ["status", "phase"]]?.stringValue != "Released" {
            object = try await setVolumePhase(object, "Released")
        }
        let policy = object[path: ["spec", "persistentVolumeReclaimPolicy"]]?.stringValue ?? "Retain"
        switch policy {
        case "Delete":
            do {
                try await client.delete(volumePath(key.name), propagationPolicy: .background, gracePeriodSeconds: nil)
                logger.info("deleted released volume", metadata: ["volume": "\(key.name)"])
            } catch {
                guard error.code == .notFound else {
                    await event(object, .warning, reason: "VolumeFailedDelete", message: error.message)
                    throw error
                }
            }
        case "Retain":
            break
        default:
            await event(object, .warning, reason: "VolumeUnknownReclaimPolicy", message: "Volume has unrecognized PersistentVolumeReclaimPolicy")
        }
        return .done
    }

    // MARK: - Provisioning

    /// The volume SwiftVirt's provisioners make for a claim: named `pvc-<claim uid>`, of the claim's size,
    /// access and volume modes, the class' reclaim policy, already bound to the claim. A local volume is
    /// pinned to `node` (`kubernetes.io/hostname`); a shared one is reachable from every node. Both name their
    /// files through `spec.csi` (driver = the provisioner, `volumeHandle` = the volume's name): each node agent
    /// finds the directory under its own local or shared volume directory, which need not be the same path on
    /// every machine.
    static func provisionedVolume(for claim: PersistentVolumeClaim, uid: String, storageClass: StorageClass, className: String,
                                  node: String?) throws(VirtError) -> PersistentVolume {
        guard let size = claim.spec?.resources?.requests?["storage"] else {
            throw VirtError(.invalid, "spec.resources.requests.storage: the claim needs a size to provision a volume")
        }
        let modes = claim.spec?.accessModes ?? ["ReadWriteOnce"]
        let name = "pvc-\(uid)"
        var metadata = ObjectMeta(name: name)
        metadata.annotations = [StorageNames.provisionedByAnnotation: storageClass.provisioner]
        metadata.finalizers = [StorageNames.volumeReclaimFinalizer]
        var spec = PersistentVolumeSpec()
        spec.capacity = ["storage": size]
        spec.accessModes = modes
        spec.storageClassName = className
        spec.volumeMode = claim.spec?.volumeMode ?? "Filesystem"
        spec.persistentVolumeReclaimPolicy = storageClass.reclaimPolicy ?? "Delete"
        spec.mountOptions = storageClass.mountOptions
        spec.claimRef = [
            "kind": "PersistentVolumeClaim", "apiVersion": "v1",
            "namespace": .string(claim.metadata?.namespace ?? "default"), "name": .string(claim.metadata?.name ?? ""), "uid": .string(uid),
        ]
        spec.csi = ["driver": .string(storageClass.provisioner), "volumeHandle": .string(name)]
        if storageClass.provisioner == StorageNames.localProvisioner {
            if modes.contains("ReadWriteMany") {
                throw VirtError(.invalid, "spec.accessModes: class \(className) (\(StorageNames.localProvisioner)) offers ReadWriteOnce, ReadWriteOncePod and ReadOnlyMany on one node; use the shared class for ReadWriteMany")
            }
            guard let node, !node.isEmpty else {
                throw VirtError(.invalid, "class \(className) makes node-local volumes: it needs volumeBindingMode WaitForFirstConsumer so the volume is made where its first pod runs")
            }
            spec.nodeAffinity = ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                "key": .string(StorageNames.hostnameLabel), "operator": "In", "values": [.string(node)],
            ]]]]]]
        }
        var volume = PersistentVolume(metadata: metadata, spec: spec)
        volume.status = nil
        return volume
    }
}
