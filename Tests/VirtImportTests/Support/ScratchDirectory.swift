import Foundation

/// A directory for one test, removed when the body returns or throws.
enum ScratchDirectory {
    static func with<T>(_ body: (String) async throws -> T) async throws -> T {
        let path = "/tmp/virtimport-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }
}

/// Collects values from a `@Sendable` callback.
final class Collector<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Value] = []

    func append(_ value: Value) { lock.withLock { stored.append(value) } }
    var values: [Value] { lock.withLock { stored } }
}
