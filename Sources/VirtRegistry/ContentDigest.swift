import Crypto

/// The digest of bytes in memory (manifests), as the distribution API writes it: `sha256:<hex>` or `sha512:<hex>`.
enum ContentDigest {
    static func of(_ bytes: [UInt8], algorithm: String) -> String {
        if algorithm == "sha512" { return "sha512:" + BlobSink.hex(SHA512.hash(data: bytes)) }
        return "sha256:" + BlobSink.hex(SHA256.hash(data: bytes))
    }
}
