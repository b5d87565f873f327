import Foundation
import NIOCore
import VirtDisk
#if canImport(Glibc)
import Glibc
#endif

/// Fills a volume from an http(s) image, as CDI's importer does for a DataVolume's `source.http`.
///
/// The source is read once. A raw image (also gzip- or xz-compressed) streams straight into the target
/// while it is hashed; an image that needs random access to be read (qcow2, VMDK, VDI, VHD, VHDX)
/// streams into a scratch file beside the target, which qemu-img then converts into the target as raw.
/// The checksum is checked over the bytes as downloaded, the target grown to the requested size (an
/// image larger than the volume fails, nothing is shrunk), synced, and only then is the marker
/// written. An import first removes the marker and any scratch file of an earlier attempt, so a rerun
/// after a failure starts clean.
public struct DiskImporter: Sendable {
    /// qemu-img, for inspecting, converting and resizing.
    public var qemuImg: QemuImg
    /// How long the download may stall before it fails (retryable).
    public var readTimeout: TimeAmount
    /// How long connecting may take: AsyncHTTPClient retries a refused connection and an untrusted
    /// certificate until then, and reports the last failure.
    public var connectTimeout: TimeAmount

    public init(qemuImg: QemuImg = QemuImg(), readTimeout: TimeAmount = .seconds(60), connectTimeout: TimeAmount = .seconds(30)) {
        self.qemuImg = qemuImg
        self.readTimeout = readTimeout
        self.connectTimeout = connectTimeout
    }

    /// Imports `source` into `target`, calling `progress` as the download advances (and once more,
    /// complete, after the marker is written).
    public func importImage(
        from source: HTTPImportSource, into target: ImportTarget,
        progress: @escaping @Sendable (ImportProgress) -> Void = { _ in }
    ) async throws(ImportError) -> ImportResult {
        guard let url = URL(string: source.url), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw .invalidSource("\"\(source.url)\" is not an http:// or https:// URL")
        }
        let layout = try TargetLayout(target)
        try layout.clean()
        defer { layout.removeScratch() }

        let plan = ImageSink.Plan(
            targetPath: target.path, targetIsBlockDevice: layout.isBlockDevice, volumeSize: layout.volumeSize,
            scratchPath: layout.scratchPath, decompressed: false, expectedLength: nil)
        let streamed = try await streamIntoSink(source, plan: plan, layout: layout, progress: progress)

        if let checksum = source.checksum, let digest = streamed.download.digest, digest != checksum.hex {
            throw .checksumMismatch(expected: checksum.description, actual: "\(checksum.algorithm.rawValue):\(digest)")
        }

        var imageSize = streamed.length
        var targetSize = layout.isBlockDevice ? (layout.volumeSize ?? imageSize) : max(imageSize, target.requestedSize ?? 0)
        let usedScratch = streamed.format != .raw
        if usedScratch {
            (imageSize, targetSize) = try await convert(streamed.format, from: layout.scratchPath, layout: layout, target: target)
        }
        let marker = ImportMarker(
            source: source.url, format: streamed.format.rawValue, compression: streamed.compression?.rawValue,
            virtualSize: targetSize, downloadedBytes: streamed.download.receivedBytes,
            checksum: source.checksum?.description)
        try marker.write(to: layout.markerPath)
        progress(ImportProgress(bytesRead: streamed.download.receivedBytes, totalBytes: streamed.download.contentLength, isComplete: true))
        return ImportResult(
            format: streamed.format, compression: streamed.compression, imageSize: imageSize, targetSize: targetSize,
            downloadedBytes: streamed.download.receivedBytes, usedScratch: usedScratch, marker: marker)
    }

    /// What the streaming phase produced.
    struct Streamed {
        var download: Download
        var format: DetectedFormat
        var compression: DetectedFormat?
        var length: Int64
    }

    /// Downloads into the sink, through a decompressor when the first bytes say gzip or xz.
    private func streamIntoSink(
        _ source: HTTPImportSource, plan: ImageSink.Plan, layout: TargetLayout, progress: @escaping @Sendable (ImportProgress) -> Void
    ) async throws(ImportError) -> Streamed {
        // The first bytes decide between the sink directly and a decompressor in front of it; the route
        // is opened lazily on the first delivery that has enough bytes to sniff.
        let router = StreamRouter(plan: plan, stderrPath: layout.stderrPath)
        let download: Download
        do {
            download = try await self.download(
                source, progress: progress, start: { router.expectedLength = $0 },
                deliver: { (bytes) throws(ImportError) in try router.deliver(bytes) })
        } catch {
            let drained = await router.abort()
            // A write refused because the decompressor stopped: the reader's error says why.
            if case .tool(let detail) = error, detail == StreamRouter.filterStopped, let drained { throw drained }
            throw error
        }
        let finished = try await router.finish()
        return Streamed(download: download, format: finished.format, compression: finished.compression, length: finished.length)
    }

    /// Checks the image at `source` (the scratch file, or a local file read in place) and converts it into
    /// the target; returns the image's virtual size and the target's size afterwards.
    func convert(_ format: DetectedFormat, from source: String?, layout: TargetLayout, target: ImportTarget) async throws(ImportError) -> (Int64, Int64) {
        guard let imageFormat = format.imageFormat, let scratch = source else {
            throw .tool("no scratch image to convert")
        }
        let info: ImageInfo
        do {
            info = try await qemuImg.info(path: scratch, format: imageFormat)
        } catch {
            throw .corruptImage(format: format.rawValue, detail: Self.qemuImgDetail(error))
        }
        if let backing = info.backingFile {
            throw .unsupportedImage("the \(format) image names a backing file (\(backing)); import a self-contained image (qemu-img convert it first)")
        }
        if let external = info.externalFiles.first(where: { $0 != scratch }) {
            throw .unsupportedImage("the \(format) image refers to another file (\(external)); import a self-contained image")
        }
        if let volumeSize = layout.volumeSize, info.virtualSize > volumeSize {
            throw .targetTooSmall(virtualSize: info.virtualSize, volumeSize: volumeSize, exact: true)
        }
        try await convertIntoTarget(scratch, format: format, layout: layout, target: target)
        layout.removeScratch()
        var targetSize = layout.volumeSize ?? info.virtualSize
        if !layout.isBlockDevice {
            targetSize = max(info.virtualSize, target.requestedSize ?? 0)
            if targetSize > info.virtualSize {
                do {
                    try await qemuImg.resize(path: target.path, format: .raw, size: targetSize)
                } catch {
                    let detail = Self.qemuImgDetail(error)
                    if detail.contains("No space left on device") { throw .diskFull(path: target.path) }
                    throw .tool(detail)
                }
            }
        }
        try Self.sync(target.path)
        return (info.virtualSize, targetSize)
    }

    /// The detail qemu-img gives when the target's filesystem refuses O_DIRECT (`-t none`).
    static let directIORefused = "does not support O_DIRECT"

    /// qemu-img writes the image into the target with O_DIRECT (`-t none`): the data reaches the disk as
    /// it is written, so the fsync afterwards has only metadata left to write, and the page cache is not
    /// filled with a second copy of the disk. Where the filesystem refuses O_DIRECT, qemu-img writes
    /// through the page cache instead (its default, writeback); the fsync then writes the data.
    private func convertIntoTarget(_ scratch: String, format: DetectedFormat, layout: TargetLayout, target: ImportTarget) async throws(ImportError) {
        guard let imageFormat = format.imageFormat else { throw .tool("\(format) is not an image format qemu-img converts") }
        var options = QemuImg.ConvertOptions(
            sourceFormat: imageFormat, skipTargetCreation: layout.isBlockDevice, cacheMode: "none", outOfOrderWrites: true)
        while true {
            let detail: String
            do {
                try await qemuImg.convert(source: scratch, destination: target.path, format: .raw, options: options)
                return
            } catch {
                detail = Self.qemuImgDetail(error)
            }
            if options.cacheMode != nil, detail.contains(Self.directIORefused) {
                options.cacheMode = nil
                continue
            }
            if detail.contains("No space left on device") { throw .diskFull(path: target.path) }
            throw .corruptImage(format: format.rawValue, detail: detail)
        }
    }

    /// fsyncs a file or device and the directory that holds it.
    static func sync(_ path: String) throws(ImportError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, detail: "cannot open to sync: \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StreamWriter.error(errno, path: path) }
        ImportMarker.syncDirectory(of: path)
    }

    static func qemuImgDetail(_ error: any Error) -> String {
        if case .failed(_, _, _, let stderr)? = error as? QemuImgError, !stderr.isEmpty { return stderr }
        return String(describing: error)
    }
}
