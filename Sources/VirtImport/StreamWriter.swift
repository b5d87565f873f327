#if canImport(Glibc)
import Glibc
#endif

/// Writes a byte stream into a file or block device from offset 0, in 1 MiB writes. On a freshly created
/// file it skips blocks of zeros, leaving holes (sparse, as qemu-img leaves them); a block device gets
/// every byte, since its old contents are not zeros.
final class StreamWriter {
    static let bufferSize = 1 << 20
    private static let blockSize = 64 << 10

    let path: String
    private let fd: Int32
    private let skipZeros: Bool
    /// Bytes the destination may take; more fail with `targetTooSmall`.
    private let limit: Int64?
    private var buffer: [UInt8]
    private var buffered = 0
    /// Bytes taken so far (written or skipped as zeros).
    private(set) var offset: Int64 = 0

    /// Opens `path`: creates it empty (`create`) or writes over an existing block device.
    init(path: String, create: Bool, skipZeros: Bool, limit: Int64?) throws(ImportError) {
        let flags = create ? (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) : (O_WRONLY | O_CLOEXEC)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw .io(path: path, detail: "cannot open for writing: \(errnoText())") }
        self.path = path
        self.fd = fd
        self.skipZeros = skipZeros
        self.limit = limit
        buffer = [UInt8](repeating: 0, count: Self.bufferSize)
    }

    deinit { close(fd) }

    /// Takes `bytes` at the current end of the stream.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ImportError) {
        if let limit, offset + Int64(buffered) + Int64(bytes.count) > limit {
            throw .targetTooSmall(virtualSize: offset + Int64(buffered) + Int64(bytes.count), volumeSize: limit, exact: false)
        }
        var consumed = 0
        while consumed < bytes.count {
            let count = min(Self.bufferSize - buffered, bytes.count - consumed)
            buffer.withUnsafeMutableBytes { destination in
                guard let target = destination.baseAddress, let source = bytes.baseAddress else { return }
                (target + buffered).copyMemory(from: source + consumed, byteCount: count)
            }
            buffered += count
            consumed += count
            if buffered == Self.bufferSize { try flush() }
        }
    }

    /// Writes what is buffered.
    func flush() throws(ImportError) {
        guard buffered > 0 else { return }
        let count = buffered
        let start = offset
        let failure: Int32? = buffer.withUnsafeBytes { bytes -> Int32? in
            guard let base = bytes.baseAddress else { return nil }
            var position = 0
            while position < count {
                let length = min(Self.blockSize, count - position)
                if skipZeros && Self.isZero(base + position, length) {
                    position += length
                    continue
                }
                // One write for the run of blocks up to the next zero block.
                var end = position + length
                while skipZeros && end < count {
                    let next = min(Self.blockSize, count - end)
                    if Self.isZero(base + end, next) { break }
                    end += next
                }
                if !skipZeros { end = count }
                if let code = Self.pwriteAll(fd, base + position, end - position, start + Int64(position)) { return code }
                position = end
            }
            return nil
        }
        if let failure { throw Self.error(failure, path: path) }
        offset += Int64(count)
        buffered = 0
    }

    /// Flushes, sets the length of a file to `size` (holes to the end), and syncs it to disk when
    /// `sync` (a scratch file that is read back at once and deleted needs no trip to the disk).
    func finish(size: Int64?, isFile: Bool, sync: Bool) throws(ImportError) {
        try flush()
        if isFile, ftruncate(fd, off_t(size ?? offset)) != 0 { throw Self.error(errno, path: path) }
        if sync, fsync(fd) != 0 { throw Self.error(errno, path: path) }
    }

    static func error(_ code: Int32, path: String) -> ImportError {
        code == ENOSPC || code == EDQUOT ? .diskFull(path: path) : .io(path: path, detail: "write failed: \(errnoText(code))")
    }

    private static func pwriteAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int, _ at: Int64) -> Int32? {
        var done = 0
        while done < count {
            let written = pwrite(fd, base + done, count - done, off_t(at + Int64(done)))
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += written
        }
        return nil
    }

    private static func isZero(_ base: UnsafeRawPointer, _ count: Int) -> Bool {
        guard count > 0 else { return true }
        guard base.load(as: UInt8.self) == 0 else { return false }
        return count == 1 || memcmp(base, base + 1, count - 1) == 0
    }
}
