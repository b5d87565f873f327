import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The record an import leaves beside its target once, and only once, the image in it is complete:
/// converted, resized and synced to disk. Whatever attaches the volume checks for it, so a VM never
/// boots a half-written disk; an import removes it before it touches the target.
public struct ImportMarker: Codable, Sendable, Equatable {
    /// The URL the image came from.
    public var source: String
    /// The image format that was found (`raw`, `qcow2`, …).
    public var format: String
    /// `gzip` or `xz` when the download was compressed.
    public var compression: String?
    /// The size of the disk in the target, in bytes.
    public var virtualSize: Int64
    /// Bytes downloaded.
    public var downloadedBytes: Int64
    /// The checksum the download was verified against, when one was given.
    public var checksum: String?

    public init(source: String, format: String, compression: String?, virtualSize: Int64, downloadedBytes: Int64, checksum: String?) {
        self.source = source
        self.format = format
        self.compression = compression
        self.virtualSize = virtualSize
        self.downloadedBytes = downloadedBytes
        self.checksum = checksum
    }

    /// The marker at `path`, or nil when there is none (the import is not complete) or it is unreadable.
    public static func read(at path: String) -> ImportMarker? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(ImportMarker.self, from: data)
    }

    /// Writes the marker atomically: a temporary file, synced, renamed over `path`, the directory synced.
    func write(to path: String) throws(ImportError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw .tool("cannot encode the import marker: \(error)") }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: temporary, detail: "cannot create: \(errnoText())") }
        let failure: Int32? = data.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return nil }
            var done = 0
            while done < bytes.count {
                let written = Glibc.write(fd, base + done, bytes.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += written
            }
            return fsync(fd) == 0 ? nil : errno
        }
        close(fd)
        if let failure { throw StreamWriter.error(failure, path: temporary) }
        guard rename(temporary, path) == 0 else { throw .io(path: path, detail: "cannot rename \(temporary): \(errnoText())") }
        Self.syncDirectory(of: path)
    }

    /// Removes the marker at `path` (and a leftover temporary one) and makes the removal durable.
    static func remove(at path: String) throws(ImportError) {
        for file in [path, path + ".tmp"] where unlink(file) != 0 && errno != ENOENT {
            throw .io(path: file, detail: "cannot remove the import marker: \(errnoText())")
        }
        syncDirectory(of: path)
    }

    /// fsyncs the directory that holds `path`, so a create, rename or unlink in it survives a crash.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
