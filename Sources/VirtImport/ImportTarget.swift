/// Where an import writes: a raw disk file to create (a Filesystem volume's `disk.img`) or an existing
/// block device (a Block volume), with the size the volume was asked for.
public struct ImportTarget: Sendable, Equatable {
    /// The file to create (replaced if it exists) or the block device to write over.
    public var path: String
    /// The volume's requested size in bytes: a file is grown to it after the import (never shrunk: an
    /// image larger than this fails). Nil: the image's own virtual size. A block device's size is its own.
    public var requestedSize: Int64?
    /// Where an image that needs random access (qcow2, VMDK, VDI, VHD/VHDX) is downloaded before it is
    /// converted. Nil: the target file's directory; a block device needs one for those formats.
    public var scratchDirectory: String?
    /// The file written once the image is complete. Nil: `PATH.complete` beside a file; a block device
    /// needs one.
    public var markerPath: String?

    public init(path: String, requestedSize: Int64? = nil, scratchDirectory: String? = nil, markerPath: String? = nil) {
        self.path = path
        self.requestedSize = requestedSize
        self.scratchDirectory = scratchDirectory
        self.markerPath = markerPath
    }
}
