import Foundation
import Testing
import VirtOS

/// Runs real programs in tests and hands back their output; a non-zero exit fails with stderr.
enum Tool {
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await ProcessRunner().check(executable, arguments).stdoutText
    }

    static func isInstalled(_ name: String) -> Bool { (try? ProcessRunner.lookup(name)) != nil }

    static func sha256(_ path: String) async throws -> String {
        String(try await run("sha256sum", ["-b", path]).prefix(64))
    }

    /// Allocated bytes of a file (st_blocks × 512): small for a sparse file.
    static func allocatedBytes(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int64(info.st_blocks) * 512
    }

    static func size(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int64(info.st_size)
    }
}

/// The project's test guest (guest/build.sh output).
enum Guest {
    static var directory: String {
        ProcessInfo.processInfo.environment["SWIFTVIRT_GUEST_DIR"] ?? "/var/lib/swiftvirt/guest"
    }

    static var diskQcow2: String { "\(directory)/disk.qcow2" }

    static var hasDisk: Bool { FileManager.default.fileExists(atPath: diskQcow2) }
}
