import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtDisk
import VirtError
import VirtReconcile

/// The node's part of reclaiming a provisioned volume (`persistentVolumeReclaimPolicy: Delete`): once the
/// PersistentVolume controller deletes a released volume, the agent that holds its files (the node a local
/// volume's node affinity names; any agent for a shared volume) removes its directory and drops the
/// `swiftvirt.io/volume-reclaim` finalizer, so the volume's object goes only with its data. A loop device
/// still over the volume's file (a Block volume whose guest's release did not happen) is detached first.
public struct PersistentVolumeReclaimer: Reconciler {
    let client: any APIClient
    let volumes: ObjectCache
    let nodeName: String
    let directories: VolumeDirectories
    let loops: LoopDevices
    let logger: Logger

    public init(client: any APIClient, volumes: ObjectCache, nodeName: String, directories: VolumeDirectories,
                loops: LoopDevices = LoopDevices(), logger: Logger) {
        self.client = client
        self.volumes = volumes
        self.nodeName = nodeName
        self.directories = directories
        self.loops = loops
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = volumes.get(key), object.metadataDeletionTimestamp != nil,
              object.metadataFinalizers.contains(StorageNames.volumeReclaimFinalizer)
        else { return .done }
        let volume: PersistentVolume = try object.decoded()
        guard VolumeDirectories.holds(volume, nodeName: nodeName) else { return .done }
        let path = try directories.path(of: volume)
        try await VolumePreparer.removeVolume(at: path, loops: loops)
        logger.info("removed reclaimed volume", metadata: ["volume": "\(key.name)", "path": "\(path)"])
        let kept = object.metadataFinalizers.filter { $0 != StorageNames.volumeReclaimFinalizer }
        do {
            _ = try await client.patch(StorageNames.volumes.named(key.name), mergePatch: [
                "metadata": ["resourceVersion": .string(object.metadataResourceVersion ?? ""),
                             "finalizers": kept.isEmpty ? .null : .array(kept.map { .string($0) })],
            ])
        } catch {
            if error.code != .notFound { throw error }
        }
        return .done
    }
}
