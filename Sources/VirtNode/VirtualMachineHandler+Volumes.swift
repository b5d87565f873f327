import Foundation
import VirtAPI
import VirtClient
import VirtDisk
import VirtError
import VirtReconcile

extension VirtualMachineHandler {
    /// The claims the VMI's `persistentVolumeClaim` volumes name, resolved to their volumes on this node.
    /// A claim that is missing or not bound yet fails the preparation, which is tried again.
    func referencedClaims(vmi: VirtualMachineInstance, namespace: String) async throws -> [String: ClaimedVolume] {
        var claims: [String: ClaimedVolume] = [:]
        for volume in vmi.spec.volumes ?? [] {
            guard let source = volume.persistentVolumeClaim, let name = source.claimName, claims[name] == nil else { continue }
            var claimed = try await claimedVolume(name, namespace: namespace, volume: volume.name)
            claimed.readOnly = claimed.readOnly || source.readOnly == true
            claims[name] = claimed
        }
        return claims
    }

    func claimedVolume(_ name: String, namespace: String, volume: String) async throws -> ClaimedVolume {
        let object: JSONValue
        do {
            object = try await client.get(StorageNames.claims.inNamespace(namespace).named(name))
        } catch {
            guard error.code == .notFound else { throw error }
            throw VirtError(.notFound, "persistentvolumeclaim \"\(name)\" not found: volume \(volume) names it; create it in namespace \(namespace)", cause: error)
        }
        let claim: PersistentVolumeClaim = try object.decoded()
        guard claim.status?.phase == "Bound", let volumeName = claim.spec?.volumeName, !volumeName.isEmpty else {
            throw VirtError(.invalidState, "persistentvolumeclaim \"\(name)\" is not bound yet (phase \(claim.status?.phase ?? "Pending")): volume \(volume) waits for it")
        }
        let pv: PersistentVolume = try await client.get(StorageNames.volumes.named(volumeName)).decoded()
        guard VolumeDirectories.holds(pv, nodeName: configuration.nodeName) else {
            throw VirtError(.invalidState, "persistentvolume \"\(volumeName)\" of claim \"\(name)\" is local to another node, not \(configuration.nodeName)")
        }
        let path = try configuration.volumeDirectories.path(of: pv)
        // A claim a DataVolume fills is used only once its import, clone or upload wrote the marker: never a
        // half-written disk.
        let fill = VolumeCloneHandler.wantsClone(object) ? "cloned" : VolumeUploadHandler.isUploadTarget(object) ? "uploaded"
            : VolumeImportHandler.wantsImport(object) ? "imported" : nil
        if let fill, !FileManager.default.fileExists(atPath: VolumeImportHandler.markerPath(volumePath: path)) {
            let phase = object[path: ["metadata", "annotations", CDINames.Annotation.podPhase]]?.stringValue ?? "Pending"
            let why = object[path: ["metadata", "annotations", CDINames.Annotation.runningConditionMessage]]?.stringValue ?? ""
            throw VirtError(.invalidState, "persistentvolumeclaim \"\(name)\" is not \(fill) yet (\(phase)\(why.isEmpty ? "" : ": \(why)")): "
                + "volume \(volume) waits for its DataVolume to succeed")
        }
        let mode: ClaimedVolume.Mode = (pv.spec?.volumeMode ?? "Filesystem") == "Block" ? .block : .filesystem
        let capacity = claim.status?.capacity?["storage"]?.bytes ?? pv.spec?.capacity?["storage"]?.bytes ?? 0
        let modes = claim.spec?.accessModes ?? []
        return ClaimedVolume(claimName: name, volumeName: volumeName, path: path, mode: mode, capacity: capacity,
                             readOnly: !modes.isEmpty && modes.allSatisfy { $0 == "ReadOnlyMany" })
    }
}
