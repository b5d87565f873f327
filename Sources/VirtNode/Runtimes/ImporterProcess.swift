import Foundation
import VirtOS

/// Runs `swiftvirt-importer` for the node agent — in its own runc sandbox (``ImporterSandbox``), as CDI
/// runs an importer pod, or, without one, as a plain child — its standard error in the request's log file
/// (progress lines `progress NN.NN%`, then the error's `Reason: message` line), read back every second for
/// progress. Exit 0 succeeded, 75 failed but a retry may help, anything else failed.
public struct ImporterProcess: VolumeImporter {
    /// The `swiftvirt-importer` executable.
    public var executable: String
    public var runner: any RedirectingCommandRunner
    /// The sandbox each import runs in; nil runs the importer as a plain child of the agent.
    public var sandbox: ImporterSandbox?

    public init(executable: String = ImporterProcess.besideThisProgram(), runner: any RedirectingCommandRunner = ProcessRunner(),
                sandbox: ImporterSandbox? = nil) {
        self.executable = executable
        self.runner = runner
        self.sandbox = sandbox
    }

    /// `swiftvirt-importer` in the directory of the running program (SwiftPM builds them side by side),
    /// else on `PATH`.
    public static func besideThisProgram() -> String {
        let directory = (Bundle.main.executablePath.map { ($0 as NSString).deletingLastPathComponent }) ?? ""
        let candidate = "\(directory)/swiftvirt-importer"
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : "swiftvirt-importer"
    }

    /// The command line for `request` (the password goes in the environment, not the arguments).
    public static func arguments(for request: VolumeImportRequest, caBundlePath: String?) -> [String] {
        var arguments = ["--target", request.target, "--size", String(request.size), "--progress"]
        if request.source == "blank" { return arguments + ["--blank"] }
        if let file = request.file {
            arguments += ["--file", file]
            if let url = request.url { arguments += ["--origin", url] }
            if let checksum = request.checksum { arguments += ["--checksum", checksum] }
            return arguments
        }
        arguments += ["--url", request.url ?? ""]
        if let checksum = request.checksum { arguments += ["--checksum", checksum] }
        if let username = request.username { arguments += ["--username", username] }
        for header in request.headers { arguments += ["--header", header] }
        if let caBundlePath { arguments += ["--ca-bundle", caBundlePath] }
        if request.insecureSkipVerify { arguments.append("--insecure-skip-verify") }
        return arguments
    }

    public func run(_ request: VolumeImportRequest, progress: @escaping @Sendable (String) async -> Void) async -> VolumeImportOutcome {
        try? FileManager.default.removeItem(atPath: request.logPath)
        var caBundlePath: String?
        if let pem = request.caBundlePEM {
            let path = request.logPath + ".ca.pem"
            do {
                try pem.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                return .failed(reason: "InvalidSource", message: "cannot write the CA bundle to \(path): \(error)", retryable: false)
            }
            caBundlePath = path
        }
        var variables = ProcessInfo.processInfo.environment
        var arguments = Self.arguments(for: request, caBundlePath: caBundlePath)
        var executable = self.executable
        var prepared: ImporterSandbox.Prepared?
        if let sandbox {
            // The password goes in the sandbox's environment; runc itself does not need it.
            let inside = request.password.map { ["SWIFTVIRT_IMPORT_PASSWORD=\($0)"] } ?? []
            let program = executable.hasPrefix("/") ? executable : ((try? ProcessRunner.lookup(executable)) ?? executable)
            let readOnly = request.file.flatMap { $0 == "-" ? nil : [$0] } ?? []
            do {
                let ready = try sandbox.prepare(executable: program, arguments: arguments, environment: inside,
                                                      target: request.target, readOnly: readOnly)
                prepared = ready
                executable = ready.command[0]
                arguments = Array(ready.command.dropFirst())
            } catch {
                return .failed(reason: "ImporterNotStarted", message: "cannot make the import's sandbox: \(error)", retryable: true)
            }
        } else if let password = request.password {
            variables["SWIFTVIRT_IMPORT_PASSWORD"] = password
        }
        let environment = variables
        let streams = StandardStreams(output: "/dev/null", error: request.logPath)
        let logPath = request.logPath
        let (runner, command, commandArguments) = (self.runner, executable, arguments)
        let code: Int32
        do {
            code = try await withThrowingTaskGroup(of: Int32?.self) { group in
                group.addTask { try await runner.run(command, commandArguments, environment: environment, streams: streams) }
                group.addTask {
                    var last = ""
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        if let value = Self.lastProgress(inLog: logPath), value != last {
                            last = value
                            await progress(value)
                        }
                    }
                    return nil
                }
                var result: Int32 = 1
                for try await value in group {
                    if let value {
                        result = value
                        group.cancelAll()
                    }
                }
                return result
            }
        } catch {
            if let prepared, let sandbox { await sandbox.remove(prepared) }
            return .failed(reason: "ImporterNotStarted", message: "cannot run \(executable): \(error)", retryable: true)
        }
        if let prepared, let sandbox { await sandbox.remove(prepared) }
        if code == 0 { return .succeeded }
        let (reason, message) = Self.failure(inLog: logPath, exitCode: code)
        return .failed(reason: reason, message: message, retryable: code == 75)
    }

    /// The last `progress NN.NN%` line of the log.
    static func lastProgress(inLog path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").last { $0.hasPrefix("progress ") }.map { String($0.dropFirst("progress ".count)) }
    }

    /// The importer's `Reason: message` line (its last line that is not progress).
    static func failure(inLog path: String, exitCode: Int32) -> (String, String) {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").last(where: { !$0.hasPrefix("progress ") }) else {
            return ("Error", "swiftvirt-importer exited with status \(exitCode) and said nothing")
        }
        guard let colon = line.firstIndex(of: ":"), !line[..<colon].contains(" ") else { return ("Error", String(line)) }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
}
