import Foundation
import VirtError
import VirtOS

/// Persistent network namespaces, each a file that a namespace is bind-mounted on, as `ip netns` makes
/// them but at any path: a pod's namespace lives before its container starts (CNI ADD runs into it,
/// runc joins it by path) and after it stops (CNI DEL runs in it), until `remove`.
///
/// Every change goes through the `CommandRunner` (`unshare`, `nsenter`, `umount`), so a unit test sees
/// the exact command lines.
public struct NetworkNamespaces: Sendable {
    public var runner: any CommandRunner

    public init(runner: any CommandRunner = ProcessRunner()) {
        self.runner = runner
    }

    /// Creates a new network namespace pinned at `path` (its directory is created if missing) with `lo`
    /// up: the file made, then `unshare --net=PATH ip link set lo up` (util-linux bind-mounts the new
    /// namespace on the file and runs `ip` in it). Refuses a path that already exists; on failure
    /// nothing is left at `path`.
    public func create(at path: String) async throws {
        guard path.hasPrefix("/") else { throw VirtError(.invalid, "network namespace path \"\(path)\" must be absolute") }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw VirtError(.exists, "cannot create network namespace \(path): the path exists already (remove it first)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw VirtError(.internal, "cannot create network namespace \(path): cannot create \(directory): \(error.localizedDescription)")
        }
        do {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw VirtError(.internal, "cannot create network namespace \(path): cannot create the file to pin it on")
            }
            // One process: unshare makes the namespace, pins it on the file and runs ip inside it.
            try await checked("cannot create network namespace \(path)", "unshare", ["--net=\(path)", "ip", "link", "set", "lo", "up"])
        } catch {
            try? await remove(at: path)
            throw error
        }
    }

    /// Removes the namespace at `path`: `umount PATH` (a file nothing is mounted on is fine), then the
    /// file. Nothing at `path` is success, so this can be repeated. The namespace itself lives on while a
    /// process is in it; interfaces in it (veth ends, taps, bridges) go with it.
    public func remove(at path: String) async throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let result = try await runner.run("umount", [path], environment: Self.environment, input: nil)
        if result.exitCode != 0 && !result.stderrText.contains("not mounted") {
            let detail = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw VirtError(.internal, "cannot remove network namespace \(path): umount failed with exit code \(result.exitCode)\(detail.isEmpty ? "" : ": \(detail)")")
        }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            guard FileManager.default.fileExists(atPath: path) else { return }
            throw VirtError(.internal, "cannot remove network namespace \(path): \(error.localizedDescription)")
        }
    }

    /// The namespace files in `directory`, sorted by path (none when it does not exist). A file here may
    /// be left over from an interrupted `create`: `remove` handles both.
    public func list(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(directory)/\($0)" }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// The tools' PATH (`ip`, `umount`… live in sbin directories a daemon's PATH may lack).
    static let environment = ["PATH": CNIRuntime.Configuration.defaultSearchPath]

    private func checked(_ context: String, _ executable: String, _ arguments: [String]) async throws {
        let result = try await runner.run(executable, arguments, environment: Self.environment, input: nil)
        guard result.exitCode == 0 else {
            let detail = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw VirtError(.internal, "\(context): \(([executable] + arguments).joined(separator: " ")) failed with exit code \(result.exitCode)\(detail.isEmpty ? "" : ": \(detail)")")
        }
    }
}
