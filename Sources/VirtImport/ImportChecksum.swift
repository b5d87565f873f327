import Crypto

/// An expected digest of the bytes as downloaded, in CDI's `spec.source.http.checksum` form
/// `ALGORITHM:HEX` (`md5`, `sha1`, `sha256`, `sha512`).
public struct ImportChecksum: Sendable, Equatable, CustomStringConvertible {
    /// A hash algorithm CDI accepts.
    public enum Algorithm: String, Sendable, CaseIterable {
        case md5, sha1, sha256, sha512

        /// Hex digits of a digest.
        var hexLength: Int {
            switch self {
            case .md5: 32
            case .sha1: 40
            case .sha256: 64
            case .sha512: 128
            }
        }
    }

    public var algorithm: Algorithm
    /// The digest in lower-case hex.
    public var hex: String

    /// Parses `sha256:…`; the message of a failure names what is wrong.
    public init(_ text: String) throws(ImportError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let algorithm = Algorithm(rawValue: parts[0].lowercased()) else {
            throw .invalidSource(
                "checksum \"\(text)\" is not ALGORITHM:HEX with one of \(Algorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let hex = parts[1].lowercased()
        guard hex.count == algorithm.hexLength, hex.allSatisfy({ $0.isHexDigit }) else {
            throw .invalidSource("checksum \"\(text)\": a \(algorithm.rawValue) digest is \(algorithm.hexLength) hex digits")
        }
        self.algorithm = algorithm
        self.hex = hex
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }

    /// A running hash of this checksum's algorithm.
    func makeHasher() -> ImportHasher { ImportHasher(algorithm) }
}

/// A running digest over a stream, in one of the checksum algorithms. One optional per algorithm, updated
/// in place through optional chaining: wrapping the state in an enum copied the digest context out and
/// back on every chunk.
struct ImportHasher {
    private var md5: Insecure.MD5?
    private var sha1: Insecure.SHA1?
    private var sha256: SHA256?
    private var sha512: SHA512?

    init(_ algorithm: ImportChecksum.Algorithm) {
        switch algorithm {
        case .md5: md5 = Insecure.MD5()
        case .sha1: sha1 = Insecure.SHA1()
        case .sha256: sha256 = SHA256()
        case .sha512: sha512 = SHA512()
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha256?.update(bufferPointer: bytes)
        md5?.update(bufferPointer: bytes)
        sha1?.update(bufferPointer: bytes)
        sha512?.update(bufferPointer: bytes)
    }

    /// The digest in lower-case hex.
    func finalize() -> String {
        let digest: [UInt8] =
            if let sha256 { Array(sha256.finalize()) } else if let md5 { Array(md5.finalize()) } else if let sha1 {
                Array(sha1.finalize())
            } else if let sha512 { Array(sha512.finalize()) } else { [] }
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
