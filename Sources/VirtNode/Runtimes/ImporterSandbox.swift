import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import VirtAPI
import VirtOS
import VirtRuntime

/// The runc sandbox an import runs in, as CDI runs its importer in a pod: the importer parses images from
/// outside (and runs qemu-img, gzip and xz on them), so it sees only what the import needs.
///
/// - the node agent's pods directory and runc root, so `runc list` shows imports beside launchers;
/// - the node's network (``PodSandboxSpec/NetworkNamespace/host``): pods have no network of their own
///   yet, and a source may be on the node's loopback;
/// - no capabilities and no devices; the host's system directories (`/usr`, `/etc`, `/lib*`) read-only,
///   as every sandbox has them;
/// - read-only: the importer's directory and the directories of the libraries it links outside those
///   (the Swift runtime), and a local source file (a registry image's disk);
/// - read-write: the directory of the target, where its log, CA bundle, scratch file and marker are too.
///
/// The sandbox runs in the foreground (`runc run` without `--detach`): the importer's standard streams
/// and exit status are runc's. Its id follows from the target, so an import left running by an agent
/// that died is removed before the next one into the same target starts.
public struct ImporterSandbox: Sendable {
    public var sandbox: PodSandbox

    public init(sandbox: PodSandbox) {
        self.sandbox = sandbox
    }

    /// The node agent's sandboxes: its pods directory, with its runc root inside.
    public init(podsDirectory: String) {
        self.init(sandbox: PodSandbox(configuration: .init(podsDirectory: podsDirectory, cgroupParent: "/swiftvirt"),
                                      runc: Runc(root: podsDirectory + "/.runc")))
    }

    /// A sandbox ready to run: the command that runs it, and what ``remove(_:)`` removes.
    public struct Prepared: Sendable {
        public var id: String
        /// runc's command line, `command[0]` its executable.
        public var command: [String]
        /// Where runc writes the importer's host pid once it runs.
        public var pidFile: String
    }

    /// The sandbox id of an import into `target`: `import-` and a hash of the path.
    public static func id(forTarget target: String) -> String {
        "import-" + String(FNV1a.hash64(target), radix: 16)
    }

    /// The spec of a sandbox running `executable arguments` for an import into `target`.
    public static func spec(id: String, executable: String, arguments: [String], environment: [String], target: String,
                            readOnly: [String], libraries: [String]) -> PodSandboxSpec {
        let targetDirectory = (target as NSString).deletingLastPathComponent
        var mounts = [PodSandboxSpec.BindMount(source: targetDirectory, destination: targetDirectory, readOnly: false)]
        var seen: Set<String> = [targetDirectory]
        let executableDirectory = (executable as NSString).deletingLastPathComponent
        for path in [executableDirectory] + libraries + readOnly where !path.isEmpty && !seen.contains(path) && !Self.isShared(path) {
            seen.insert(path)
            mounts.append(.init(source: path, destination: path, readOnly: true))
        }
        return PodSandboxSpec(id: id, hostname: id, process: .init(arguments: [executable] + arguments, environment: environment),
                              networkNamespace: .host, mounts: mounts, devices: [], capabilities: [],
                              annotations: ["io.swiftvirt.import.target": target])
    }

    /// Whether every sandbox has `path` already (under the host's shared system directories).
    static func isShared(_ path: String) -> Bool {
        HostLayout.sharedPaths.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// Removes what is left of an earlier import into the same target (a `runc delete --force`, waited
    /// for, only when one is there), then writes the sandbox's bundle.
    public func prepare(executable: String, arguments: [String], environment: [String], target: String, readOnly: [String])
        throws -> Prepared
    {
        let id = Self.id(forTarget: target)
        if sandbox.runc.hasStateDirectory(id) { Self.forceDelete(id, runc: sandbox.runc) }
        try sandbox.bundle(for: id).remove()
        let spec = Self.spec(id: id, executable: executable, arguments: arguments, environment: environment, target: target,
                             readOnly: readOnly, libraries: Self.libraryDirectories(of: executable))
        let bundle = try sandbox.prepare(spec)
        let command = try sandbox.runc.foregroundRunCommand(id, bundle: bundle.path, pidFile: bundle.pidFilePath)
        return Prepared(id: id, command: command, pidFile: bundle.pidFilePath)
    }

    /// `runc delete --force ID`, waited for.
    static func forceDelete(_ id: String, runc: Runc) {
        let path = runc.executable.hasPrefix("/") ? runc.executable : ((try? ProcessRunner.lookup(runc.executable)) ?? runc.executable)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        guard null >= 0, case .success(let pid) = ChildSpawn.spawn(path, ["--root", runc.root, "delete", "--force", id],
                                                                   input: null, output: null, error: null) else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Kills the sandbox's process at once (its host pid from the pid file runc wrote, if it wrote it yet).
    public static func kill(_ prepared: Prepared) {
        guard let text = try? String(contentsOfFile: prepared.pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else { return }
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Removes the sandbox (killing what still runs in it) and its bundle, whose configuration holds the
    /// import's credentials.
    public func remove(_ prepared: Prepared) async {
        do {
            try await sandbox.stop(prepared.id, options: .init(grace: .zero, killTimeout: .seconds(10)))
        } catch {
            try? sandbox.bundle(for: prepared.id).remove()
        }
    }

    /// The directories of the shared libraries `executable` links (from `ldd`), once per executable.
    static func libraryDirectories(of executable: String) -> [String] {
        if let known = libraryCache.withLock({ $0[executable] }) { return known }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [executable]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        var directories: [String] = []
        if (try? process.run()) != nil {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            directories = parseLibraryDirectories(String(decoding: data, as: UTF8.self))
        }
        libraryCache.withLock { $0[executable] = directories }
        return directories
    }

    /// The directories of the absolute paths in `ldd` output (`name => /dir/lib.so (0x…)` lines), in order.
    static func parseLibraryDirectories(_ text: String) -> [String] {
        var directories: [String] = []
        for line in text.split(separator: "\n") {
            guard let arrow = line.range(of: "=> /") else { continue }
            let path = line[line.index(arrow.lowerBound, offsetBy: 3)...].split(separator: " ").first.map(String.init) ?? ""
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty, !directories.contains(directory) { directories.append(directory) }
        }
        return directories
    }

    private static let libraryCache = Mutex<[String: [String]]>([:])
}
