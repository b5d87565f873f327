import Crypto

/// The firmware (SMBIOS) UUID a VM's guests get when the VM names none: KubeVirt's rule, a version 5
/// (name-based, SHA-1) UUID of the VM's name in a fixed namespace, so every VMI of the VM — every restart —
/// shows the guest the same machine.
public enum FirmwareUUID {
    /// KubeVirt's namespace UUID for firmware UUIDs.
    static let namespace: [UInt8] = [
        0x6a, 0x1a, 0x24, 0xa1, 0x40, 0x61, 0x46, 0x07, 0x8b, 0xf4, 0xa3, 0x96, 0x3d, 0x0c, 0x58, 0x95,
    ]

    /// The lowercase UUID for the VM (or lone VMI) called `name`.
    public static func forVirtualMachine(named name: String) -> String {
        nameBased(namespace: namespace, name: name)
    }

    /// RFC 4122 version 5: SHA-1 of namespace and name, cut to 16 bytes, version and variant bits set.
    static func nameBased(namespace: [UInt8], name: String) -> String {
        var bytes = Array(Insecure.SHA1.hash(data: namespace + Array(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x50
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = bytes.map { byte in (byte < 0x10 ? "0" : "") + String(byte, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}
