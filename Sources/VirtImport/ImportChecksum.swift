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

/// A running digest over a stream, in one of the checksum algorithms.
struct ImportHasher {
    private enum State {
        case md5(Insecure.MD5)
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State

    init(_ algorithm: ImportChecksum.Algorithm) {
        switch algorithm {
        case .md5: state = .md5(Insecure.MD5())
        case .sha1: state = .sha1(Insecure.SHA1())
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .md5(var hash): hash.update(bufferPointer: bytes); state = .md5(hash)
        case .sha1(var hash): hash.update(bufferPointer: bytes); state = .sha1(hash)
        case .sha256(var hash): hash.update(bufferPointer: bytes); state = .sha256(hash)
        case .sha512(var hash): hash.update(bufferPointer: bytes); state = .sha512(hash)
        }
    }

    /// The digest in lower-case hex.
    func finalize() -> String {
        let digest: [UInt8]
        switch state {
        case .md5(let hash): digest = Array(hash.finalize())
        case .sha1(let hash): digest = Array(hash.finalize())
        case .sha256(let hash): digest = Array(hash.finalize())
        case .sha512(let hash): digest = Array(hash.finalize())
        }
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
