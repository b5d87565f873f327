import Foundation
import VirtError
import VirtOS

/// The runc command line as a value: every call runs `runc --root ROOT SUBCOMMAND …` through an
/// injectable runner, so unit tests see the exact command lines and the node agent runs the real binary.
///
/// Calls that start a container's process (`create`, `run`) go through the runner's
/// `StandardStreams` form: with `terminal: false` the container inherits runc's stdio, so runc is given
/// files (the pod's logs), never pipes that the container would hold open.
public struct Runc: Sendable {
    /// Where SwiftVirt keeps runc's container state (`runc --root`): a tmpfs, so a reboot forgets
    /// containers that a reboot killed anyway.
    public static let defaultRoot = "/run/swiftvirt/runc"

    /// The runc binary: a path, or a name looked up on PATH.
    public var executable: String
    /// runc's state directory (`--root`). Containers under another root are invisible to this value.
    public var root: String
    public var runner: any RedirectingCommandRunner

    public init(executable: String = "runc", root: String = Runc.defaultRoot, runner: any RedirectingCommandRunner = ProcessRunner()) {
        self.executable = executable
        self.root = root
        self.runner = runner
    }

    /// Options of `runc create` and `runc run --detach`.
    public struct CreateOptions: Sendable, Equatable {
        /// Where runc writes the container's host pid (`--pid-file`).
        public var pidFile: String?
        /// The container process's stdin, stdout and stderr (inherited from runc).
        public var streams: StandardStreams
        /// `--no-pivot`: for a rootfs on ramfs, where pivot_root does not work.
        public var noPivot: Bool
        /// `--no-new-keyring`: keep the caller's session keyring instead of a new one.
        public var noNewKeyring: Bool

        public init(pidFile: String? = nil, streams: StandardStreams = .null, noPivot: Bool = false, noNewKeyring: Bool = false) {
            self.pidFile = pidFile
            self.streams = streams
            self.noPivot = noPivot
            self.noNewKeyring = noNewKeyring
        }
    }

    /// Options of `runc kill`.
    public struct KillOptions: Sendable, Equatable {
        /// `--all`: signal every process in the container, not only its init.
        public var all: Bool

        public init(all: Bool = false) { self.all = all }
    }

    /// Options of `runc delete`.
    public struct DeleteOptions: Sendable, Equatable {
        /// `--force`: kill the container first if it still runs.
        public var force: Bool

        public init(force: Bool = false) { self.force = force }

        public static let force = DeleteOptions(force: true)
    }

    /// Options of `runc exec`. The process gets the container's `process` settings (capabilities,
    /// environment, cwd, no new privileges) with these on top.
    public struct ExecOptions: Sendable, Equatable {
        /// Extra `NAME=value` variables (`--env`).
        public var environment: [String]
        /// `--cwd`.
        public var workingDirectory: String?
        /// `--user UID[:GID]`.
        public var user: String?
        /// Bytes written to the process's stdin.
        public var input: [UInt8]?

        public init(environment: [String] = [], workingDirectory: String? = nil, user: String? = nil, input: [UInt8]? = nil) {
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.user = user
            self.input = input
        }
    }

    // MARK: Lifecycle

    /// `runc create`: sets the container up; its process waits for `start(_:)`.
    public func create(_ id: String, bundle: String, options: CreateOptions = .init()) async throws {
        try await detached("create", id: id, arguments: ["create", "--bundle", bundle] + Self.createFlags(options) + [id], streams: options.streams)
    }

    /// `runc start`: lets a created container's process run.
    public func start(_ id: String) async throws {
        _ = try await checked("start", id: id, ["start", id])
    }

    /// `runc run --detach`: creates and starts in one step, returning once the process runs.
    /// No runc process stays behind: the container's init is re-parented (to a subreaper, else to init).
    public func run(_ id: String, bundle: String, options: CreateOptions = .init()) async throws {
        try await detached("run", id: id, arguments: ["run", "--detach", "--bundle", bundle] + Self.createFlags(options) + [id], streams: options.streams)
    }

    /// The command line of `runc run` in the foreground: the container's process gets runc's standard
    /// streams, and runc exits with its status once it ends (the container is left to ``delete(_:options:)``).
    /// The process's host pid is written to `pidFile` once it runs.
    public func foregroundRunCommand(_ id: String, bundle: String, pidFile: String) throws -> [String] {
        try Self.validate(id)
        return [executable] + globalArguments + ["run", "--bundle", bundle, "--pid-file", pidFile, id]
    }

    /// `runc state`.
    public func state(_ id: String) async throws -> ContainerState {
        let result = try await checked("state", id: id, ["state", id])
        do {
            return try JSONDecoder().decode(ContainerState.self, from: Data(result.stdout))
        } catch {
            throw RuncError.malformedOutput(command: commandLine(["state", id]), detail: "\(error)").wrapped("cannot read the state of container \(id)")
        }
    }

    /// Whether runc keeps state for container `id`: its directory under `root`, which runc creates with the
    /// container and removes when it deletes it.
    public func hasStateDirectory(_ id: String) -> Bool {
        FileManager.default.fileExists(atPath: root + "/" + id)
    }

    /// `runc list`: every container under `root`.
    public func list() async throws -> [ContainerState] {
        let result = try await checked("list", id: nil, ["list", "--format", "json"])
        let text = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // runc prints `null` when there are no containers.
        if text.isEmpty || text == "null" { return [] }
        do {
            return try JSONDecoder().decode([ContainerState].self, from: Data(text.utf8))
        } catch {
            throw RuncError.malformedOutput(command: commandLine(["list", "--format", "json"]), detail: "\(error)").wrapped("cannot list containers")
        }
    }

    /// `runc kill ID SIGNAL` (the signal by number, e.g. `SIGTERM` = 15).
    public func kill(_ id: String, signal: Int32 = SIGTERM, options: KillOptions = .init()) async throws {
        _ = try await checked("kill", id: id, ["kill"] + (options.all ? ["--all"] : []) + [id, String(signal)])
    }

    /// `runc delete`.
    public func delete(_ id: String, options: DeleteOptions = .init()) async throws {
        _ = try await checked("delete", id: id, ["delete"] + (options.force ? ["--force"] : []) + [id])
    }

    /// `runc pause`: freezes every process of the container.
    public func pause(_ id: String) async throws {
        _ = try await checked("pause", id: id, ["pause", id])
    }

    /// `runc resume`: thaws a paused container.
    public func resume(_ id: String) async throws {
        _ = try await checked("resume", id: id, ["resume", id])
    }

    /// `runc exec`: runs a program in the container and collects its output. A non-zero exit code of
    /// the program is returned, not thrown; runc's own failures (no such container, no such program)
    /// are thrown.
    public func exec(_ id: String, _ arguments: [String], options: ExecOptions = .init()) async throws -> CommandResult {
        guard !arguments.isEmpty else {
            throw VirtError(.invalid, "exec in container \(id) needs a program to run")
        }
        var command = ["exec"]
        for variable in options.environment { command += ["--env", variable] }
        if let directory = options.workingDirectory { command += ["--cwd", directory] }
        if let user = options.user { command += ["--user", user] }
        command += [id] + arguments
        try Self.validate(id)
        let result = try await invoke(command, input: options.input)
        // runc exits 255 with "exec failed: …" when it could not run the program at all.
        if result.exitCode == 255, let message = Self.runcMessage(result.stderrText), message.hasPrefix("exec failed") {
            throw classify(message, id: id, command: command, exitCode: result.exitCode).wrapped("cannot exec in container \(id)")
        }
        return result
    }

    /// The command line a call runs, for messages and tests.
    public func commandLine(_ arguments: [String]) -> String {
        ([executable] + globalArguments + arguments).joined(separator: " ")
    }

    // MARK: Running runc

    private var globalArguments: [String] { ["--root", root] }

    private static func createFlags(_ options: CreateOptions) -> [String] {
        var flags: [String] = []
        if let pidFile = options.pidFile { flags += ["--pid-file", pidFile] }
        if options.noPivot { flags.append("--no-pivot") }
        if options.noNewKeyring { flags.append("--no-new-keyring") }
        return flags
    }

    private func invoke(_ arguments: [String], input: [UInt8]? = nil) async throws -> CommandResult {
        do {
            return try await runner.run(executable, globalArguments + arguments, environment: nil, input: input)
        } catch let error as VirtError where error.code == .notFound {
            throw RuncError.notInstalled(executable: executable).wrapped("cannot run runc")
        }
    }

    private func checked(_ verb: String, id: String?, _ arguments: [String]) async throws -> CommandResult {
        if let id { try Self.validate(id) }
        let result = try await invoke(arguments)
        guard result.exitCode == 0 else {
            let message = Self.runcMessage(result.stderrText) ?? result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw classify(message, id: id, command: arguments, exitCode: result.exitCode).wrapped("runc \(verb)\(id.map { " \($0)" } ?? "")")
        }
        return result
    }

    /// Runs `create` / `run` with the container's streams; runc's error text is read back from the
    /// stderr file (what it appended), since it is not captured.
    private func detached(_ verb: String, id: String, arguments: [String], streams: StandardStreams) async throws {
        try Self.validate(id)
        let before = Self.fileSize(streams.error)
        let code: Int32
        do {
            code = try await runner.run(executable, globalArguments + arguments, environment: nil, streams: streams)
        } catch let error as VirtError where error.code == .notFound {
            throw RuncError.notInstalled(executable: executable).wrapped("cannot run runc")
        }
        guard code == 0 else {
            let text = before.map { Self.readTail(streams.error, from: $0) } ?? ""
            let message = Self.runcMessage(text) ?? text.trimmingCharacters(in: .whitespacesAndNewlines)
            throw classify(message, id: id, command: arguments, exitCode: code).wrapped("runc \(verb) \(id)")
        }
    }

    private func classify(_ message: String, id: String?, command: [String], exitCode: Int32) -> RuncError {
        if let id {
            if message.contains("does not exist") { return .containerNotFound(id: id, root: root) }
            if message.contains("already exists") { return .containerExists(id: id, root: root) }
            if message.contains("not stopped") { return .containerRunning(id: id) }
            if message.contains("not running") || message.contains("stopped container") { return .containerNotRunning(id: id) }
        }
        return .commandFailed(command: commandLine(command), exitCode: exitCode, message: message)
    }

    /// The message of runc's last error line: `time="…" level=error msg="…"` (logrus text format).
    static func runcMessage(_ stderr: String) -> String? {
        for line in stderr.split(whereSeparator: \.isNewline).reversed() where line.contains("level=error") {
            guard let start = line.range(of: "msg=\"") else { continue }
            var message = ""
            var escaped = false
            for character in line[start.upperBound...] {
                if escaped {
                    message.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    break
                } else {
                    message.append(character)
                }
            }
            return message
        }
        return nil
    }

    /// runc's container id rule: `^[\w+\-.]+$`, and not `.` or `..`.
    static func validate(_ id: String) throws {
        let valid = !id.isEmpty && id != "." && id != ".." && id.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "_+-.".unicodeScalars.contains(scalar))
        }
        guard valid else { throw RuncError.invalidID(id).wrapped("invalid container id") }
    }

    /// The size of a regular file (0 when it does not exist yet); `nil` for anything else (`/dev/null`).
    private static func fileSize(_ path: String) -> UInt64? {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular else { return nil }
        return (attributes[.size] as? NSNumber)?.uint64Value
    }

    private static func readTail(_ path: String, from offset: UInt64) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() else { return "" }
        return String(decoding: data.suffix(8192), as: UTF8.self)
    }
}
