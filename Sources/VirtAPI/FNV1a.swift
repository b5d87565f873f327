/// 64-bit FNV-1a: the one stable, non-cryptographic hash behind derived names (launcher pod suffixes,
/// sandbox ids, generated MACs, offered cluster IPs and node ports).
public enum FNV1a {
    /// The hash of the UTF-8 bytes of `text`.
    public static func hash64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
