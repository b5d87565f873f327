import Foundation
import Logging
import VirtDisk

/// What an agent does once at its start about loop devices an earlier run of it left attached (it was
/// killed between a Block volume's attach and its release, or the pod's state went without a release):
/// a device whose backing file lies in this node's volumes or pods directories is detached when
///
/// - its backing file was deleted (a reclaimed volume, a removed pod): nothing can open that file again; or
/// - the file is a node-local volume's and no pod state directory here remembers the device (a
///   `<state>/disks/<volume>.loop` marker): no guest of this node uses it, and no other node holds the volume.
///
/// A shared volume's device that exists is left alone: another node's agent on the same host may use it.
/// Devices over anyone else's files are never looked at.
struct VolumeLoopSweep {
    var loops: LoopDevices
    var directories: VolumeDirectories
    var podsDirectory: String
    /// A pod sandbox's state directory, by sandbox id (the pod runtime's layout).
    var stateDirectory: @Sendable (String) -> String
    var logger: Logger

    /// Detaches the leftover devices and returns them.
    @discardableResult
    func run() async throws -> [String] {
        let remembered = rememberedDevices()
        var detached: [String] = []
        for attachment in try await loops.attachments() {
            let ours = [directories.local, directories.shared, podsDirectory].contains { attachment.isBacked(at: $0) }
            guard ours else { continue }
            let unused = attachment.isBacked(at: directories.local) && !remembered.contains(attachment.device)
            guard attachment.backingFileDeleted || unused else { continue }
            try await loops.detach(attachment.device)
            logger.info("detached a leftover loop device", metadata: [
                "device": "\(attachment.device)", "file": "\(attachment.backingFile)", "deleted": "\(attachment.backingFileDeleted)",
            ])
            detached.append(attachment.device)
        }
        return detached
    }

    /// The devices the pods' state directories remember.
    func rememberedDevices() -> Set<String> {
        let pods = (try? FileManager.default.contentsOfDirectory(atPath: podsDirectory)) ?? []
        return Set(pods.flatMap { VolumePreparer.rememberedLoopDevices(stateDirectory: stateDirectory($0)) })
    }
}
