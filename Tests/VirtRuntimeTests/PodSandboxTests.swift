import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtError
import VirtOS
@testable import VirtRuntime

/// `PodSandbox` against a recording runner: which runc calls each step makes.
@Suite struct PodSandboxTests {
    func withSandbox(_ script: @escaping RecordingRunner.Script, _ body: (PodSandbox, RecordingRunner, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvirt-sandbox-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = RecordingRunner(script: script)
        let sandbox = PodSandbox(configuration: .init(podsDirectory: directory + "/pods", cgroupParent: "/agent"),
                                 runc: Runc(root: directory + "/runc", runner: runner))
        try await body(sandbox, runner, directory)
    }

    @Test func prepareChoosesTheCgroupAndStartRunsDetachedWithTheLogs() async throws {
        try await withSandbox({ call in
            // runc writes the pid file of a process that has already gone: start asks runc for the state.
            if call.arguments[2] == "run", let index = call.arguments.firstIndex(of: "--pid-file") {
                try "999999999".write(toFile: call.arguments[index + 1], atomically: true, encoding: .utf8)
            }
            if call.arguments[2] == "state" {
                return CommandResult(exitCode: 0, stdout: Array(#"{"id":"default_a","pid":0,"status":"stopped","bundle":"/x"}"#.utf8))
            }
            return CommandResult(exitCode: 0)
        }) { sandbox, runner, directory in
            let bundle = try sandbox.prepare(PodSandboxSpec(id: "default_a", hostname: "a", process: .init(arguments: ["/bin/true"])),
                                             host: .mergedUsr)
            #expect(bundle.path == directory + "/pods/default_a")
            let config = try bundle.readConfiguration()
            #expect(config[path: ["linux", "cgroupsPath"]] == "/agent/default_a")
            #expect(config[path: ["process", "rlimits"]]?.arrayValue?.count == 1)

            let state = try await sandbox.start("default_a")
            #expect(state.status == .stopped)
            #expect(runner.commandLines == [
                "runc --root \(directory)/runc run --detach --bundle \(bundle.path) --pid-file \(bundle.pidFilePath) default_a",
                "runc --root \(directory)/runc state default_a",
            ])
            #expect(runner.recorded.first?.streams == StandardStreams(output: bundle.stdoutPath, error: bundle.stderrPath))

            await #expect(throws: VirtError.self) { try await sandbox.start("default_unprepared") }
            #expect(throws: VirtError.self) {
                try sandbox.prepare(PodSandboxSpec(id: "bad/id", hostname: "a", process: .init(arguments: ["/bin/true"])))
            }
        }
    }

    @Test func stoppingAMissingContainerOnlyCleansUp() async throws {
        try await withSandbox({ _ in CommandResult(exitCode: 1, stderr: runcErrorLine("container does not exist")) }) { sandbox, runner, _ in
            let bundle = try sandbox.prepare(PodSandboxSpec(id: "default_gone", hostname: "gone", process: .init(arguments: ["/bin/true"])),
                                             host: .mergedUsr)
            #expect(try await sandbox.status("default_gone") == nil)
            try await sandbox.stop("default_gone")
            #expect(!FileManager.default.fileExists(atPath: bundle.path))
            // runc's root has no directory for it: runc is not asked.
            #expect(runner.commandLines.isEmpty)
        }
    }

    @Test func runcIsAskedOnlyAboutContainersItHasStateFor() async throws {
        try await withSandbox({ _ in CommandResult(exitCode: 1, stderr: runcErrorLine("container does not exist")) }) { sandbox, runner, directory in
            #expect(try await sandbox.status("default_new") == nil)
            #expect(runner.commandLines.isEmpty)
            // A directory under the root (say, a container half deleted): runc decides, and its "does not
            // exist" still means no container.
            try FileManager.default.createDirectory(atPath: directory + "/runc/default_half", withIntermediateDirectories: true)
            #expect(try await sandbox.status("default_half") == nil)
            #expect(runner.commandLines == ["runc --root \(directory)/runc state default_half"])
        }
    }

    @Test func adoptExistingKeepsOnlyThisAgentsPods() async throws {
        let list = Mutex<String>("")
        try await withSandbox({ _ in CommandResult(exitCode: 0, stdout: Array(list.withLock { $0 }.utf8)) }) { sandbox, _, directory in
            list.withLock {
                $0 = """
                    [{"id":"default_a","pid":10,"status":"running","bundle":"\(directory)/pods/default_a"},
                     {"id":"other","pid":11,"status":"running","bundle":"/elsewhere/other"},
                     {"id":"default_b","pid":0,"status":"stopped","bundle":"\(directory)/pods/default_b"}]
                    """
            }
            let adopted = try await sandbox.adoptExisting()
            #expect(adopted.map(\.id) == ["default_a", "default_b"])
        }
    }
}
