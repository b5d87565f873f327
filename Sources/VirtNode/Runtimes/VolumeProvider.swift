import VirtAPI
import VirtDisk

/// Makes the files behind a VMI's volumes on this node: container disk overlays, empty disks, host
/// disks, cloud-init seeds and PersistentVolumeClaims (a `disk.img`, or a loop device for `Block`).
public protocol VolumeProvider: Sendable {
    /// Prepares every volume of `vmi` under `stateDirectory` (the pod's), reusing what an earlier
    /// attempt left there. `secrets` holds the Secrets the volumes name, by name; `claims` the bound
    /// claims, by claim name.
    func prepare(_ vmi: VirtualMachineInstance, stateDirectory: String, secrets: [String: Secret],
                 claims: [String: ClaimedVolume]) async throws -> [PreparedDisk]
    /// Lets go of what the pod's volumes hold on the host beyond its files (loop devices), as the guest stops.
    func release(stateDirectory: String) async throws
}

extension VolumePreparer: VolumeProvider {
    public func release(stateDirectory: String) async throws {
        try await releasePersistentVolumes(stateDirectory: stateDirectory)
    }
}
