/// Tells a disk image's format (or its compression) from its first bytes, by the magic numbers
/// qemu-img's own probes and CDI's importer look for. It reads at most `prefixLength` bytes and never
/// fails: what it does not recognise is raw.
public enum FormatSniffer {
    /// The bytes needed to decide; fewer are enough at the end of a short stream.
    public static let prefixLength = 512

    private static let qcow2Magic: [UInt8] = [0x51, 0x46, 0x49, 0xFB]  // "QFI\xfb"
    private static let vmdkSparseMagic: [UInt8] = Array("KDMV".utf8)
    private static let vmdkCOWDMagic: [UInt8] = Array("COWD".utf8)
    private static let vmdkDescriptorMagic: [UInt8] = Array("# Disk DescriptorFile".utf8)
    private static let vhdxMagic: [UInt8] = Array("vhdxfile".utf8)
    private static let vhdMagic: [UInt8] = Array("conectix".utf8)
    private static let vdiSignature: [UInt8] = [0x7F, 0x10, 0xDA, 0xBE]  // 0xbeda107f little-endian at 0x40
    private static let vdiSignatureOffset = 0x40
    private static let gzipMagic: [UInt8] = [0x1F, 0x8B]
    private static let xzMagic: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]

    /// The format of a stream that starts with `bytes`.
    public static func sniff(_ bytes: some Collection<UInt8>) -> DetectedFormat {
        let head = Array(bytes.prefix(prefixLength))
        if starts(head, with: qcow2Magic) { return .qcow2 }
        if starts(head, with: vmdkSparseMagic) || starts(head, with: vmdkCOWDMagic) { return .vmdk }
        if starts(head, with: vmdkDescriptorMagic) { return .vmdkDescriptor }
        if starts(head, with: vhdxMagic) { return .vhdx }
        if starts(head, with: vhdMagic) { return .vhd }
        if starts(head, with: xzMagic) { return .xz }
        if starts(head, with: gzipMagic) { return .gzip }
        if head.count >= vdiSignatureOffset + vdiSignature.count,
            Array(head[vdiSignatureOffset..<(vdiSignatureOffset + vdiSignature.count)]) == vdiSignature
        {
            return .vdi
        }
        return .raw
    }

    private static func starts(_ head: [UInt8], with magic: [UInt8]) -> Bool {
        head.count >= magic.count && head[0..<magic.count].elementsEqual(magic)
    }
}
