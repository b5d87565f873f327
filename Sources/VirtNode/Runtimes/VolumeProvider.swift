import VirtAPI
import VirtDisk

/// Makes the files behind a VMI's volumes on this node: container disk overlays, empty disks, host
/// disks, cloud-init seeds today; persistent volumes come through the same door.
public protocol VolumeProvider: Sendable {
    /// Prepares every volume of `vmi` under `stateDirectory` (the pod's), reusing what an earlier
    /// attempt left there. `secrets` holds the Secrets the volumes name, by name.
    func prepare(_ vmi: VirtualMachineInstance, stateDirectory: String, secrets: [String: Secret]) async throws -> [PreparedDisk]
}

extension VolumePreparer: VolumeProvider {}
