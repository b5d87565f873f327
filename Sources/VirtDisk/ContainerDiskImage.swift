/// A containerDisk's image file, ready to sit under a copy-on-write overlay.
public struct ContainerDiskImage: Sendable, Equatable {
    /// Absolute path of the disk file on the node (read-only: never write to it).
    public var path: String
    /// `raw` or `qcow2` (qcow2 without a backing file).
    public var format: ImageFormat
    /// The size the guest sees, in bytes.
    public var virtualSize: Int64

    public init(path: String, format: ImageFormat, virtualSize: Int64) {
        self.path = path
        self.format = format
        self.virtualSize = virtualSize
    }
}
