/// A PersistentVolumeClaim volume as the node sees it once the claim is bound: where its volume lives on
/// this node and how the guest uses it. The node agent resolves it from the claim and its PersistentVolume.
public struct ClaimedVolume: Sendable, Equatable {
    /// `Filesystem`: the volume is a directory holding `disk.img`; `Block`: the volume is a raw device.
    public enum Mode: String, Sendable, Equatable {
        case filesystem = "Filesystem"
        case block = "Block"
    }

    /// The claim's name (`persistentVolumeClaim.claimName`).
    public var claimName: String
    /// The PersistentVolume bound to it.
    public var volumeName: String
    /// The volume on this node: a directory (made when missing), a regular file, or (Block) a block device.
    public var path: String
    public var mode: Mode
    /// The claim's capacity in bytes: the size of a `disk.img` or backing file made for it.
    public var capacity: Int64
    /// Opened read-only (`persistentVolumeClaim.readOnly`, or a `ReadOnlyMany`-only claim).
    public var readOnly: Bool

    public init(claimName: String, volumeName: String, path: String, mode: Mode, capacity: Int64, readOnly: Bool = false) {
        self.claimName = claimName
        self.volumeName = volumeName
        self.path = path
        self.mode = mode
        self.capacity = capacity
        self.readOnly = readOnly
    }
}
