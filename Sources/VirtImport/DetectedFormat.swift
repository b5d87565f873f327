import VirtDisk

/// What the first bytes of a stream say it is: a compression wrapper or a disk image format.
public enum DetectedFormat: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// No known magic: a plain disk (or an ISO, which is a raw disk too).
    case raw
    case qcow2
    /// A VMDK with its extent in the same file (monolithicSparse, streamOptimized).
    case vmdk
    /// A text VMDK descriptor: its extents are other files, which a download cannot bring.
    case vmdkDescriptor
    case vdi
    case vhdx
    /// Microsoft VHD, dynamic (qemu-img's `vpc`); a fixed VHD has its footer at the end only and reads as raw.
    case vhd
    case gzip
    case xz

    /// The qemu-img format to open the image as; nil for compression wrappers and descriptors.
    public var imageFormat: ImageFormat? {
        switch self {
        case .raw: .raw
        case .qcow2: .qcow2
        case .vmdk: .vmdk
        case .vdi: .vdi
        case .vhdx: .vhdx
        case .vhd: .vpc
        case .vmdkDescriptor, .gzip, .xz: nil
        }
    }

    /// The decompressor for a compression wrapper.
    public var decompressor: Decompressor? {
        switch self {
        case .gzip: .gzip
        case .xz: .xz
        default: nil
        }
    }

    public var description: String { rawValue }
}
