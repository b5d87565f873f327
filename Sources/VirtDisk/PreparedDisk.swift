/// A volume made ready for QEMU: the file to open, how, and what else QEMU must be able to read.
public struct PreparedDisk: Sendable, Equatable {
    /// Which kind of volume source this came from.
    public enum Source: String, Sendable, Equatable {
        case containerDisk
        case emptyDisk
        case hostDisk
        case persistentVolumeClaim
        case cloudInitNoCloud
        case cloudInitConfigDrive
    }

    /// `spec.volumes[].name`, which the disk with the same name refers to.
    public var volumeName: String
    public var source: Source
    /// Absolute path of the file QEMU opens. Under the pod's state directory, except for hostDisk.
    public var path: String
    /// The format to open it with (`format=` on `-blockdev`/`-drive`: never let QEMU probe).
    public var format: ImageFormat
    /// The volume itself is read-only (cloud-init seeds). The disk's own `readonly` still applies on top.
    public var readOnly: Bool
    /// For copy-on-write overlays (containerDisk): the image under it, which QEMU opens read-only.
    /// It lies outside the state directory, so the pod must see it at the same path.
    public var backing: QemuImg.Backing?
    /// `path` is a block device (a `Block` volume's loop device): QEMU opens it with `host_device`, and the
    /// pod gets the device node instead of a bind mount.
    public var blockDevice: Bool = false

    public init(volumeName: String, source: Source, path: String, format: ImageFormat, readOnly: Bool, backing: QemuImg.Backing? = nil) {
        self.volumeName = volumeName
        self.source = source
        self.path = path
        self.format = format
        self.readOnly = readOnly
        self.backing = backing
    }
}
