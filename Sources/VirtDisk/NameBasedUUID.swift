import Crypto

/// RFC 4122 version 5 (SHA-1, name-based) UUIDs, as Go's `uuid.NewSHA1` makes them.
enum NameBasedUUID {
    /// KubeVirt's namespace for firmware UUIDs (`magicUUID` in its VM controller).
    static let kubevirtFirmwareNamespace: [UInt8] = [
        0x6a, 0x1a, 0x24, 0xa1, 0x40, 0x61, 0x46, 0x07, 0x8b, 0xf4, 0xa3, 0x96, 0x3d, 0x0c, 0x58, 0x95,
    ]

    /// The lowercase textual form of the version 5 UUID of `name` in `namespace`.
    static func make(namespace: [UInt8], name: String) -> String {
        var digest = Array(Insecure.SHA1.hash(data: namespace + Array(name.utf8)).prefix(16))
        digest[6] = (digest[6] & 0x0f) | 0x50
        digest[8] = (digest[8] & 0x3f) | 0x80
        let hex = digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 0x10 ? "0" + text : text
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}
