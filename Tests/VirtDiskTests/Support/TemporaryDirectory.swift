import Foundation

/// A scratch directory for one test, removed when the test body returns or throws.
struct TemporaryDirectory {
    let path: String

    static func with<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let path = "\(base)/virtdisk-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let directory = TemporaryDirectory(path: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(directory)
    }

    func sub(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = sub(name)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return file
    }
}
