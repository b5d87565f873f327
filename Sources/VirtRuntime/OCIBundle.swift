import Foundation
import VirtAPI
import VirtError
import VirtOS

/// A pod's OCI bundle on disk, one directory per pod:
///
/// ```
/// PATH/config.json   the OCI runtime spec
/// PATH/rootfs/       empty except for mount points and the host's /bin, /lib… symlinks
/// PATH/state/        read-write at PodSandboxSpec.stateMountPath inside the sandbox
/// PATH/state/stdout.log, PATH/state/stderr.log   the process's output
/// PATH/pid           the host pid of the process (runc --pid-file)
/// ```
public struct OCIBundle: Sendable, Equatable {
    public var path: String

    public init(path: String) { self.path = path }

    public var configPath: String { path + "/config.json" }
    public var rootfsPath: String { path + "/rootfs" }
    /// The pod's state directory on the host.
    public var statePath: String { path + "/state" }
    public var stdoutPath: String { statePath + "/stdout.log" }
    public var stderrPath: String { statePath + "/stderr.log" }
    public var pidFilePath: String { path + "/pid" }

    /// The container process's streams: stdin from `/dev/null`, output appended to the logs.
    public var streams: StandardStreams {
        StandardStreams(input: nil, output: stdoutPath, error: stderrPath)
    }

    /// Lays the bundle out and writes `config.json`. The rootfs gets `host`'s symlinks (e.g.
    /// `bin -> usr/bin`), so merged-/usr paths resolve through the read-only `/usr` mount. Safe to repeat.
    public func create(configuration: JSONValue, host: HostLayout) throws {
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try files.createDirectory(atPath: rootfsPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try files.createDirectory(atPath: statePath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            for entry in host.entries {
                guard case .symlink(let target) = entry.kind else { continue }
                let link = rootfsPath + entry.path
                if (try? files.destinationOfSymbolicLink(atPath: link)) == target { continue }
                try? files.removeItem(atPath: link)
                try files.createSymbolicLink(atPath: link, withDestinationPath: target)
            }
            for log in [stdoutPath, stderrPath] where !files.fileExists(atPath: log) {
                guard files.createFile(atPath: log, contents: nil, attributes: [.posixPermissions: 0o644]) else {
                    throw VirtError(.internal, "cannot create \(log)")
                }
            }
            let data = Data(configuration.serializedBytes())
            try data.write(to: URL(fileURLWithPath: configPath), options: .atomic)
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError(.internal, "cannot write the OCI bundle at \(path): \(error)")
        }
    }

    /// Reads `config.json` back.
    public func readConfiguration() throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw VirtError(.notFound, "no OCI bundle at \(path): \(configPath) is missing")
        }
        return try JSONValue.parse(Array(data))
    }

    /// Whether `config.json` exists.
    public var exists: Bool { FileManager.default.fileExists(atPath: configPath) }

    /// Removes the bundle (and the state directory unless `keepingState`). Refuses while anything is
    /// mounted below it: removing files through a leftover bind mount of the host's /usr would be fatal.
    public func remove(keepingState: Bool = false) throws {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else { return }
        if let mount = Self.mountPoints().first(where: { $0 == path || $0.hasPrefix(path + "/") }) {
            throw VirtError(.invalidState, "cannot remove the OCI bundle at \(path): \(mount) is still mounted; unmount it first")
        }
        do {
            if keepingState {
                for item in [configPath, rootfsPath, pidFilePath] where files.fileExists(atPath: item) || (try? files.destinationOfSymbolicLink(atPath: item)) != nil {
                    try files.removeItem(atPath: item)
                }
            } else {
                try files.removeItem(atPath: path)
            }
        } catch {
            throw VirtError(.internal, "cannot remove the OCI bundle at \(path): \(error)")
        }
    }

    /// Mount points of this mount namespace (`/proc/self/mountinfo`, field 5, octal escapes decoded).
    static func mountPoints() -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/self/mountinfo") else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            return fields.count > 4 ? unescape(fields[4]) : nil
        }
    }

    private static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: "\\"), utf8.count >= 4,
               let value = UInt8(String(decoding: utf8.dropFirst().prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(4)
            } else {
                bytes.append(byte)
                utf8 = utf8.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
