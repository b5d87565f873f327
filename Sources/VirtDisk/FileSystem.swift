import Foundation

/// The few file-system facts and moves the disk code needs, without following symlinks where it matters.
enum FileSystem {
    enum Kind: Equatable {
        case regular
        case directory
        case symlink
        case other
    }

    /// What is at `path` (the link itself for a symlink), or nil when nothing is.
    static func kind(_ path: String) -> Kind? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// What `path` resolves to, following symlinks.
    static func resolvedKind(_ path: String) -> Kind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Size in bytes (following symlinks).
    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw POSIXFailure(operation: "read", path: path, code: errno)
        }
        return Array(data)
    }

    static func makeDirectory(_ path: String, mode: Int = 0o755) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
    }

    /// Renames atomically; throws the errno on failure (EEXIST/ENOTEMPTY when a directory is in the way).
    static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw POSIXFailure(operation: "rename to \(to)", path: from, code: errno) }
    }

    static func remove(_ path: String) throws {
        guard kind(path) != nil else { return }
        try FileManager.default.removeItem(atPath: path)
    }

    /// Names in a directory, without `.` and `..`, sorted.
    static func list(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// A fresh name for something temporary.
    static func uniqueSuffix() -> String { String(UUID().uuidString.prefix(8)).lowercased() }
}
