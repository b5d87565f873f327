/// A disk image format as qemu-img names it (`raw`, `qcow2`, …).
public struct ImageFormat: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// A plain byte-for-byte image; sparse on file systems that support holes.
    public static let raw = ImageFormat("raw")
    /// QEMU copy-on-write v2: grows on demand, can sit on a backing image.
    public static let qcow2 = ImageFormat("qcow2")
    public static let vmdk = ImageFormat("vmdk")
    public static let vdi = ImageFormat("vdi")
    public static let vhdx = ImageFormat("vhdx")
    /// Microsoft VHD (qemu-img calls it `vpc`).
    public static let vpc = ImageFormat("vpc")

    public var description: String { rawValue }
}
