import Foundation

/// A fresh directory under the system's temporary directory, removed with everything in it when the last
/// reference goes: held by a test suite's instance, it lasts exactly one test.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String) throws {
        path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
