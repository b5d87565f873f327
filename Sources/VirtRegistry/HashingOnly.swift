import Crypto

/// The digest of bytes in memory (manifests), as the distribution API writes it.
struct HashingOnly {
    var algorithm: String

    func digest(_ bytes: [UInt8]) -> String {
        if algorithm == "sha512" { return "sha512:" + BlobSink.hex(SHA512.hash(data: bytes)) }
        return "sha256:" + BlobSink.hex(SHA256.hash(data: bytes))
    }
}
