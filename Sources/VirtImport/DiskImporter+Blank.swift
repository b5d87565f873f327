import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension DiskImporter {
    /// CDI's `source.blank`: an empty raw disk of the requested size (a sparse file; a block device is
    /// left as it is), fsynced, then marked complete like any import. A rerun starts clean.
    public func makeBlank(into target: ImportTarget) throws(ImportError) -> ImportResult {
        let layout = try TargetLayout(target)
        try layout.clean()
        var size = layout.volumeSize ?? 0
        if !layout.isBlockDevice {
            guard let requested = target.requestedSize else { throw .invalidTarget("a blank disk needs a requested size") }
            size = requested / 512 * 512
            let fd = open(target.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .io(path: target.path, detail: "cannot create: \(errnoText())") }
            defer { close(fd) }
            if ftruncate(fd, off_t(size)) != 0 { throw StreamWriter.error(errno, path: target.path) }
            if fsync(fd) != 0 { throw StreamWriter.error(errno, path: target.path) }
        }
        let marker = ImportMarker(source: "blank", format: DetectedFormat.raw.rawValue, compression: nil, virtualSize: size,
                                  downloadedBytes: 0, checksum: nil)
        try marker.write(to: layout.markerPath)
        return ImportResult(format: .raw, compression: nil, imageSize: size, targetSize: size, downloadedBytes: 0, usedScratch: false, marker: marker)
    }
}
