import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Importing from a local file or standard input: the same sniffing, decompression, scratch and
/// conversion as a download, with the file's bytes in place of the response body. One shortcut: a
/// regular file in a format that needs random access (qcow2, VMDK, VDI, VHD(X); not compressed) and no
/// checksum to verify is converted by qemu-img where it lies, not copied into a scratch file first.
extension DiskImporter {
    /// Imports `source` into `target`, calling `progress` as the file is read (against its size when it
    /// is a regular file; unknown for a pipe), and once more, complete, after the marker is written.
    public func importImage(
        from source: FileImportSource, into target: ImportTarget,
        progress: @escaping @Sendable (ImportProgress) -> Void = { _ in }
    ) async throws(ImportError) -> ImportResult {
        let input = try Self.openInput(source)
        defer { if input.descriptor != STDIN_FILENO { close(input.descriptor) } }
        let layout = try TargetLayout(target)
        try layout.clean()
        defer { layout.removeScratch() }
        if let size = input.size, source.checksum == nil, let format = Self.randomAccessFormat(input.descriptor) {
            return try await convertInPlace(source, format: format, size: size, layout: layout, target: target, progress: progress)
        }

        let plan = ImageSink.Plan(
            targetPath: target.path, targetIsBlockDevice: layout.isBlockDevice, volumeSize: layout.volumeSize,
            scratchPath: layout.scratchPath, decompressed: false, expectedLength: nil)
        let router = StreamRouter(plan: plan, stderrPath: layout.stderrPath)
        router.expectedLength = input.size
        let read: (bytes: Int64, digest: String?)
        do {
            read = try Self.readAll(input.descriptor, source: source, size: input.size, progress: progress) { (bytes) throws(ImportError) in
                try router.deliver(bytes)
            }
        } catch {
            let drained = await router.abort()
            if case .tool(let detail) = error, detail == StreamRouter.filterStopped, let drained { throw drained }
            throw error
        }
        let finished = try await router.finish()

        if let checksum = source.checksum, let digest = read.digest, digest != checksum.hex {
            throw .checksumMismatch(expected: checksum.description, actual: "\(checksum.algorithm.rawValue):\(digest)")
        }
        var imageSize = finished.length
        var targetSize = layout.isBlockDevice ? (layout.volumeSize ?? imageSize) : max(imageSize, target.requestedSize ?? 0)
        let usedScratch = finished.format != .raw
        if usedScratch {
            (imageSize, targetSize) = try await convert(finished.format, from: layout.scratchPath, layout: layout, target: target)
        }
        let marker = ImportMarker(
            source: source.markerSource, format: finished.format.rawValue, compression: finished.compression?.rawValue,
            virtualSize: targetSize, downloadedBytes: read.bytes, checksum: source.checksum?.description)
        try marker.write(to: layout.markerPath)
        progress(ImportProgress(bytesRead: read.bytes, totalBytes: input.size, isComplete: true))
        return ImportResult(
            format: finished.format, compression: finished.compression, imageSize: imageSize, targetSize: targetSize,
            downloadedBytes: read.bytes, usedScratch: usedScratch, marker: marker)
    }

    /// The format of the file at `fd` when it is one qemu-img must read with random access (its first bytes
    /// say qcow2, VMDK, VDI, VHD or VHDX), else nil (raw, compressed, a VMDK descriptor: streamed).
    static func randomAccessFormat(_ fd: Int32) -> DetectedFormat? {
        var head = [UInt8](repeating: 0, count: FormatSniffer.prefixLength)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let format = FormatSniffer.sniff(head[0..<count])
        return format != .raw && format.imageFormat != nil ? format : nil
    }

    /// qemu-img checks and converts the file where it lies (its real path, so that the check for files it
    /// refers to compares like with like).
    private func convertInPlace(
        _ source: FileImportSource, format: DetectedFormat, size: Int64, layout: TargetLayout, target: ImportTarget,
        progress: @Sendable (ImportProgress) -> Void
    ) async throws(ImportError) -> ImportResult {
        progress(ImportProgress(bytesRead: 0, totalBytes: size))
        guard let real = realpath(source.path, nil) else { throw .io(path: source.path, detail: "cannot resolve: \(errnoText())") }
        let path = String(cString: real)
        free(real)
        let (imageSize, targetSize) = try await convert(format, from: path, layout: layout, target: target)
        let marker = ImportMarker(
            source: source.markerSource, format: format.rawValue, compression: nil, virtualSize: targetSize, downloadedBytes: size, checksum: nil)
        try marker.write(to: layout.markerPath)
        progress(ImportProgress(bytesRead: size, totalBytes: size, isComplete: true))
        return ImportResult(
            format: format, compression: nil, imageSize: imageSize, targetSize: targetSize, downloadedBytes: size, usedScratch: false, marker: marker)
    }

    /// The descriptor to read and, for a regular file, its size.
    static func openInput(_ source: FileImportSource) throws(ImportError) -> (descriptor: Int32, size: Int64?) {
        if source.isStandardInput { return (STDIN_FILENO, nil) }
        guard !source.path.isEmpty else { throw .invalidSource("the file to import is empty; give a path, or - for standard input") }
        let fd = open(source.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .invalidSource("cannot open the file to import \(source.path): \(errnoText())") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .io(path: source.path, detail: "cannot stat: \(errnoText())")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return (fd, Int64(info.st_size))
        case S_IFDIR:
            close(fd)
            throw .invalidSource("the file to import \(source.path) is a directory; name the disk image file in it")
        default: return (fd, nil)  // a pipe, FIFO or device: read to its end
        }
    }

    /// Reads `fd` to its end in 1 MiB pieces, hashing each and handing it to `deliver` before the next
    /// read; a regular file that ends short of its size (it shrank while read) fails.
    static func readAll(
        _ fd: Int32, source: FileImportSource, size: Int64?, progress: @Sendable (ImportProgress) -> Void,
        deliver: (UnsafeRawBufferPointer) throws(ImportError) -> Void
    ) throws(ImportError) -> (bytes: Int64, digest: String?) {
        var hasher = source.checksum?.makeHasher()
        var buffer = [UInt8](repeating: 0, count: StreamWriter.bufferSize)
        var total: Int64 = 0
        var reported = -1
        progress(ImportProgress(bytesRead: 0, totalBytes: size))
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: source.displayName, detail: "cannot read: \(errnoText())")
            }
            if count == 0 { break }
            var failure: ImportError?
            buffer.withUnsafeBytes { whole in
                let bytes = UnsafeRawBufferPointer(rebasing: whole[0..<count])
                hasher?.update(bytes)
                do throws(ImportError) { try deliver(bytes) } catch { failure = error }
            }
            if let failure { throw failure }
            total += Int64(count)
            let update = ImportProgress(bytesRead: total, totalBytes: size)
            let points = update.basisPoints ?? Int(total >> 26)  // unknown size: every 64 MiB
            if points != reported {
                reported = points
                progress(update)
            }
        }
        if let size, total < size {
            throw .io(path: source.displayName, detail: "ended after \(total) of its \(size) bytes (it shrank while it was read); import it again")
        }
        return (total, hasher?.finalize())
    }
}
