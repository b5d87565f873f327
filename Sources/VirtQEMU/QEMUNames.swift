import VirtAPI

/// The names the converter gives QEMU objects, derived from the names in the VMI spec.
///
/// - Devices the user named (disks, interfaces, inputs, the watchdog) get the qdev id `ua-<name>`, as
///   libvirt names KubeVirt's "user aliases", so QMP replies (`query-block`, `query-pci`, events) can be
///   matched back to the spec.
/// - A disk's block nodes are `<base>-file` (the protocol node) and `<base>-fmt` (the format node, which
///   the device uses). A network interface's backend is `hostua-<base>`.
/// - `<base>` is the spec name when it is already a QEMU identifier (starts with a letter; letters,
///   digits, `-`, `_`; at most 22 characters, so node names stay within QEMU's 31). Otherwise it is
///   the name with other characters replaced by `_`, cut to 13 characters, then `_` and eight hex
///   digits of the FNV-1a hash of the full name, so different names never share a base.
enum QEMUNames {
    static let maxBaseLength = 22

    static func base(_ name: String) -> String {
        var cleaned = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_": cleaned.unicodeScalars.append(scalar)
            default: cleaned.append("_")
            }
        }
        let startsWithLetter = cleaned.unicodeScalars.first.map { ("a"..."z").contains($0) || ("A"..."Z").contains($0) } ?? false
        if !startsWithLetter { cleaned = "d" + cleaned }
        if cleaned == name && cleaned.count <= maxBaseLength { return cleaned }
        let hash = String(UInt32(truncatingIfNeeded: fnv1a64(name) >> 32), radix: 16)
        return String(cleaned.prefix(13)) + "_" + String(repeating: "0", count: 8 - hash.count) + hash
    }

    static func deviceID(_ name: String) -> String { "ua-\(base(name))" }
    static func fileNode(_ name: String) -> String { "\(base(name))-file" }
    static func formatNode(_ name: String) -> String { "\(base(name))-fmt" }
    static func netdevID(_ name: String) -> String { "hostua-\(base(name))" }

    /// 64-bit FNV-1a over the UTF-8 bytes of `text`.
    static func fnv1a64(_ text: String) -> UInt64 { FNV1a.hash64(text) }
}
