import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files of one import: the target (file or block device), its size limit, the scratch file, the
/// decompressor's error log and the completion marker.
struct TargetLayout {
    let isBlockDevice: Bool
    /// What the target may hold: the requested size of a file, the size of a block device.
    let volumeSize: Int64?
    let scratchPath: String?
    let markerPath: String
    let stderrPath: String
    let targetPath: String

    init(_ target: ImportTarget) throws(ImportError) {
        targetPath = target.path
        guard target.path.hasPrefix("/") else { throw .invalidTarget("\(target.path) is not an absolute path") }
        if let size = target.requestedSize, size <= 0 { throw .invalidTarget("the requested size \(size) is not positive") }
        var info = stat()
        let directory = (target.path as NSString).deletingLastPathComponent
        let name = (target.path as NSString).lastPathComponent
        if stat(target.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFBLK {
            isBlockDevice = true
            let fd = open(target.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .invalidTarget("cannot open the block device \(target.path): \(errnoText())") }
            let size = lseek(fd, 0, SEEK_END)
            close(fd)
            guard size > 0 else { throw .invalidTarget("cannot tell the size of the block device \(target.path)") }
            if let requested = target.requestedSize, requested > size {
                throw .invalidTarget("the block device \(target.path) holds \(size) bytes, less than the requested \(requested)")
            }
            volumeSize = Int64(size)
            guard let marker = target.markerPath else {
                throw .invalidTarget("a block device target needs a marker path outside the device (\(target.path))")
            }
            markerPath = marker
            scratchPath = target.scratchDirectory.map { "\($0)/.\(name).import-scratch" }
        } else {
            if stat(target.path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
                throw .invalidTarget("\(target.path) is neither a regular file nor a block device")
            }
            var directoryInfo = stat()
            guard stat(directory, &directoryInfo) == 0, (directoryInfo.st_mode & S_IFMT) == S_IFDIR else {
                throw .invalidTarget("the directory of \(target.path) does not exist")
            }
            isBlockDevice = false
            volumeSize = target.requestedSize
            markerPath = target.markerPath ?? target.path + ".complete"
            scratchPath = "\(target.scratchDirectory ?? directory)/.\(name).import-scratch"
        }
        stderrPath = NSTemporaryDirectory() + "swiftvirt-import-\(UUID().uuidString).stderr"
    }

    /// Undoes an earlier attempt: the marker first (durably), then its scratch file and a file target.
    func clean() throws(ImportError) {
        try ImportMarker.remove(at: markerPath)
        removeScratch()
        if !isBlockDevice, unlink(targetPath) != 0, errno != ENOENT {
            throw .io(path: targetPath, detail: "cannot remove the earlier attempt's target: \(errnoText())")
        }
    }

    /// Removes the scratch file and the error log.
    func removeScratch() {
        if let scratchPath { unlink(scratchPath) }
        unlink(stderrPath)
    }
}
