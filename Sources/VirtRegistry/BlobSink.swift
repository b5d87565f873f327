import Crypto
import Foundation

/// Where a blob's bytes go as they arrive: a new file, hashed on the way, so a multi-gigabyte layer is
/// never held in memory or read twice. One transport writes to it at a time; the lock makes that safe to
/// hand across tasks (`@unchecked` because the lock, not the compiler, guards `state`).
public final class BlobSink: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var state: State

    private struct State {
        var descriptor: Int32
        var sha256 = SHA256()
        var sha512 = SHA512()
        var count: Int64 = 0
    }

    /// Creates (truncates) the file at `path`.
    public init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SinkError(operation: "create", path: path, code: errno) }
        self.path = path
        state = State(descriptor: descriptor)
    }

    deinit { if state.descriptor >= 0 { _ = close(state.descriptor) } }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard state.descriptor >= 0 else { throw SinkError(operation: "write", path: path, code: EBADF) }
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(state.descriptor, bytes.baseAddress?.advanced(by: offset), bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SinkError(operation: "write", path: path, code: errno)
                }
                offset += written
            }
            state.sha256.update(bufferPointer: bytes)
            state.sha512.update(bufferPointer: bytes)
            state.count += Int64(bytes.count)
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Closes the file; returns what was written: its byte count and its digest in the algorithm of
    /// `algorithm` (`sha256` or `sha512`).
    public func finish(algorithm: String) throws -> (count: Int64, digest: String) {
        lock.lock()
        defer { lock.unlock() }
        do {
            if state.descriptor >= 0 {
                let closed = close(state.descriptor)
                state.descriptor = -1
                guard closed == 0 else { throw SinkError(operation: "close", path: path, code: errno) }
            }
            let hex = algorithm == "sha512" ? Self.hex(state.sha512.finalize()) : Self.hex(state.sha256.finalize())
            return (state.count, "\(algorithm == "sha512" ? "sha512" : "sha256"):\(hex)")
        }
    }

    /// Lowercase hex of a digest.
    public static func hex<D: Digest>(_ digest: D) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// A file operation that failed.
    public struct SinkError: Error, Sendable, CustomStringConvertible {
        public var operation: String
        public var path: String
        public var code: Int32
        public var description: String { "cannot \(operation) \(path): \(String(cString: strerror(code)))" }
    }
}
