import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Copies one disk image file to another as `cp --reflink=auto --sparse=auto` does: first an FICLONE ioctl
/// (the target shares the source's extents: instant, on xfs with reflink and on btrfs), and where the
/// filesystem cannot (ext4, tmpfs, across filesystems) a copy of the source's data extents only, so a
/// sparse image stays sparse. The copy goes to `<target>.clone` and is renamed over the target once it is
/// grown to `size` (never shrunk) and synced, so the target is either the old file or the whole copy.
public enum FileClone {
    /// How the data got there.
    public enum Method: String, Sendable, Equatable {
        /// FICLONE: shared extents.
        case reflink
        /// `copy_file_range` / read-write of the data extents.
        case copy
    }

    /// Why a clone failed; the message says what to fix.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        /// The source is bigger than the size asked for: retrying cannot help.
        public var tooSmall: Bool

        public init(_ message: String, tooSmall: Bool = false) {
            self.message = message
            self.tooSmall = tooSmall
        }

        public var description: String { message }
    }

    /// The outcome of a clone.
    public struct Result: Sendable, Equatable {
        public var method: Method
        /// The source file's size in bytes.
        public var sourceSize: Int64
        /// The target's size in bytes (at least `sourceSize`).
        public var targetSize: Int64
    }

    static let ficlone: UInt = 0x4004_9409
    /// glibc's `copy_file_range` (not in the Glibc module's headers without _GNU_SOURCE), looked up once.
    typealias CopyFileRange = @convention(c) (Int32, UnsafeMutablePointer<off_t>?, Int32, UnsafeMutablePointer<off_t>?, Int, UInt32) -> Int
    nonisolated(unsafe) static let copyFileRange: CopyFileRange? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "copy_file_range") else { return nil }
        return unsafeBitCast(symbol, to: CopyFileRange.self)
    }()
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    /// Called with how far into the source a copy is, in bytes, and the source's size, after each chunk
    /// (at most 64 MiB; a reflink reports nothing).
    public typealias Progress = @Sendable (_ copied: Int64, _ total: Int64) -> Void

    /// Clones `source` to `target`, grown to `size` bytes when that is bigger than the source; throws
    /// (``Failure/tooSmall``) when the source is bigger than `size`. `reflink: false` forces the copy
    /// (`cp --reflink=never`), for the benchmark; `progress` hears how far a copy is.
    public static func clone(source: String, target: String, size: Int64, reflink: Bool = true, progress: Progress? = nil) throws(Failure) -> Result {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw Failure("cannot open the source image \(source): \(errorText())") }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw Failure("cannot stat \(source): \(errorText())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure("the source \(source) is not a regular file (a raw block device cannot be cloned yet)") }
        let sourceSize = Int64(info.st_size)
        if size > 0, sourceSize > size {
            throw Failure("the target (\(size) bytes) is smaller than the source image (\(sourceSize) bytes); request at least \(sourceSize) bytes", tooSmall: true)
        }
        let temporary = target + ".clone"
        unlink(temporary)
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw Failure("cannot create \(temporary): \(errorText())") }
        var closed = false
        defer { if !closed { close(output); unlink(temporary) } }

        var method = Method.copy
        if reflink, ioctl(output, ficlone, input) == 0 {
            method = .reflink
        } else {
            try copyExtents(from: input, to: output, size: sourceSize, name: source, progress: progress)
        }
        let targetSize = max(size, sourceSize)
        if targetSize > sourceSize || method == .copy, ftruncate(output, off_t(targetSize)) != 0 {
            throw Failure("cannot grow \(temporary) to \(targetSize) bytes: \(errorText())")
        }
        guard fsync(output) == 0 else { throw Failure("cannot sync \(temporary): \(errorText())") }
        closed = true
        close(output)
        guard rename(temporary, target) == 0 else {
            let text = errorText()
            unlink(temporary)
            throw Failure("cannot rename \(temporary) to \(target): \(text)")
        }
        syncDirectory(of: target)
        return Result(method: method, sourceSize: sourceSize, targetSize: targetSize)
    }

    /// Copies the data extents of `input` (SEEK_DATA / SEEK_HOLE), leaving holes as holes; the caller sets the size.
    static func copyExtents(from input: Int32, to output: Int32, size: Int64, name: String, progress: Progress?) throws(Failure) {
        let report = progress.map { progress in { @Sendable (offset: Int64) in progress(offset, size) } }
        // No ftruncate first: the copy extends the file as cp's does (on ext4 that measured 0.88x cp pre-sized,
        // 0.93-1.00x so, in bench/import_bench.py under load); the caller sizes it afterwards, trailing hole included.
        var offset: Int64 = 0
        while offset < size {
            let data = lseek(input, off_t(offset), seekData)
            if data < 0 {
                if errno == ENXIO { break }  // only a hole is left
                // No SEEK_DATA here: copy everything that is left.
                try copyRange(from: input, to: output, offset: offset, length: size - offset, name: name, progress: report)
                break
            }
            var hole = Int64(lseek(input, data, seekHole))
            if hole < 0 || hole > size { hole = size }
            try copyRange(from: input, to: output, offset: Int64(data), length: hole - Int64(data), name: name, progress: report)
            offset = hole
            report?(offset)
        }
        report?(size)
    }

    /// Copies `length` bytes at `offset`: copy_file_range, or pread/pwrite where the kernel refuses it.
    static func copyRange(from input: Int32, to output: Int32, offset: Int64, length: Int64, name: String,
                          progress: (@Sendable (Int64) -> Void)?) throws(Failure) {
        var done: Int64 = 0
        var useKernel = copyFileRange != nil
        var buffer: [UInt8] = []
        while done < length {
            if done > 0 { progress?(offset + done) }
            let chunk = Int(min(length - done, 64 << 20))
            if useKernel {
                var inOffset = off_t(offset + done)
                var outOffset = off_t(offset + done)
                let copied = copyFileRange?(input, &inOffset, output, &outOffset, chunk, 0) ?? -1
                if copied > 0 {
                    done += Int64(copied)
                    continue
                }
                if copied == 0 { throw Failure("\(name) ended early, at \(offset + done) bytes") }
                if errno == EINTR { continue }
                guard [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP].contains(errno) else {
                    throw Failure("cannot copy \(name): \(errorText())")
                }
                useKernel = false
            }
            if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: 4 << 20) }
            let want = min(chunk, buffer.count)
            let read = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, want, off_t(offset + done)) }
            if read < 0 {
                if errno == EINTR { continue }
                throw Failure("cannot read \(name): \(errorText())")
            }
            if read == 0 { throw Failure("\(name) ended early, at \(offset + done) bytes") }
            var written = 0
            while written < read {
                let n = buffer.withUnsafeBytes { pwrite(output, $0.baseAddress! + written, read - written, off_t(offset + done) + off_t(written)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure("cannot write the copy of \(name): \(errorText())")
                }
                written += n
            }
            done += Int64(read)
        }
    }

    /// Writes `data` to `path` atomically: a temporary file, synced, renamed over `path`, the directory synced.
    public static func writeAtomically(_ data: Data, to path: String) throws(Failure) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("cannot create \(temporary): \(errorText())") }
        let failure: Int32? = data.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return fsync(fd) == 0 ? nil : errno
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw Failure("cannot write \(temporary): \(String(cString: strerror(failure)))")
        }
        guard rename(temporary, path) == 0 else { throw Failure("cannot rename \(temporary) to \(path): \(errorText())") }
        syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
