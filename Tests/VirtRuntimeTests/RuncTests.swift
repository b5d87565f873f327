import Foundation
import Testing
import VirtError
import VirtOS
@testable import VirtRuntime

@Suite struct RuncTests {
    static let stateJSON = """
        {"ociVersion":"1.0.2-dev","id":"default_vm1","pid":4242,"status":"running","bundle":"/pods/default_vm1",\
        "rootfs":"/pods/default_vm1/rootfs","created":"2026-11-26T15:31:38.448314409Z","owner":"",\
        "annotations":{"io.kubernetes.pod.name":"vm1"}}
        """

    func runc(_ runner: RecordingRunner) -> Runc {
        Runc(executable: "runc", root: "/run/swiftvirt/runc", runner: runner)
    }

    func runcCause(_ error: VirtError?) -> RuncError? {
        error?.cause as? RuncError
    }

    @Test func commandLines() async throws {
        let runner = RecordingRunner { call in
            switch call.arguments[2] {
            case "state": CommandResult(exitCode: 0, stdout: Array(Self.stateJSON.utf8))
            case "list": CommandResult(exitCode: 0, stdout: Array("[\(Self.stateJSON)]".utf8))
            default: CommandResult(exitCode: 0)
            }
        }
        let runc = runc(runner)
        let streams = StandardStreams(output: "/pods/x/state/stdout.log", error: "/pods/x/state/stderr.log")
        try await runc.run("default_vm1", bundle: "/pods/default_vm1", options: .init(pidFile: "/pods/default_vm1/pid", streams: streams))
        try await runc.create("default_vm1", bundle: "/pods/default_vm1", options: .init(noPivot: true))
        try await runc.start("default_vm1")
        _ = try await runc.state("default_vm1")
        _ = try await runc.list()
        try await runc.kill("default_vm1")
        try await runc.kill("default_vm1", signal: SIGKILL, options: .init(all: true))
        try await runc.pause("default_vm1")
        try await runc.resume("default_vm1")
        _ = try await runc.exec("default_vm1", ["qemu-img", "info", "/disk.qcow2"],
                                options: .init(environment: ["LANG=C"], workingDirectory: "/var/run/swiftvirt/pod"))
        try await runc.delete("default_vm1")
        try await runc.delete("default_vm1", options: .force)

        let root = "runc --root /run/swiftvirt/runc"
        #expect(runner.commandLines == [
            "\(root) run --detach --bundle /pods/default_vm1 --pid-file /pods/default_vm1/pid default_vm1",
            "\(root) create --bundle /pods/default_vm1 --no-pivot default_vm1",
            "\(root) start default_vm1",
            "\(root) state default_vm1",
            "\(root) list --format json",
            "\(root) kill default_vm1 15",
            "\(root) kill --all default_vm1 9",
            "\(root) pause default_vm1",
            "\(root) resume default_vm1",
            "\(root) exec --env LANG=C --cwd /var/run/swiftvirt/pod default_vm1 qemu-img info /disk.qcow2",
            "\(root) delete default_vm1",
            "\(root) delete --force default_vm1",
        ])
        // Starting a process passes files, never pipes; other calls collect output.
        #expect(runner.recorded[0].streams == streams)
        #expect(runner.recorded[1].streams == .null)
        #expect(runner.recorded[2].streams == nil)
    }

    @Test func stateAndList() async throws {
        let runner = RecordingRunner { call in
            call.arguments[2] == "state"
                ? CommandResult(exitCode: 0, stdout: Array(Self.stateJSON.utf8))
                : CommandResult(exitCode: 0, stdout: Array("null\n".utf8))
        }
        let state = try await runc(runner).state("default_vm1")
        #expect(state == ContainerState(id: "default_vm1", pid: 4242, status: .running, bundle: "/pods/default_vm1",
                                        rootfs: "/pods/default_vm1/rootfs", created: "2026-11-26T15:31:38.448314409Z",
                                        annotations: ["io.kubernetes.pod.name": "vm1"]))
        #expect(state.isAlive)
        #expect(try await runc(runner).list() == [])
    }

    @Test func errorsNameTheContainerAndWhatToDo() async throws {
        let runner = RecordingRunner { call in
            switch call.arguments[2] {
            case "state": CommandResult(exitCode: 1, stderr: runcErrorLine("container does not exist"))
            case "delete": CommandResult(exitCode: 1, stderr: runcErrorLine("cannot delete container default_vm1 that is not stopped: running"))
            case "kill": CommandResult(exitCode: 1, stderr: runcErrorLine("container not running"))
            case "list": CommandResult(exitCode: 0, stdout: Array("[{\"id\":".utf8))
            default: CommandResult(exitCode: 1, stderr: runcErrorLine("something \\\"odd\\\""))
            }
        }
        let runc = runc(runner)

        let missing = await #expect(throws: VirtError.self) { try await runc.state("default_vm1") }
        #expect(missing?.code == .notFound)
        #expect(runcCause(missing) == .containerNotFound(id: "default_vm1", root: "/run/swiftvirt/runc"))
        #expect(missing?.description == "runc state default_vm1: container default_vm1 does not exist (runc root /run/swiftvirt/runc)")

        let running = await #expect(throws: VirtError.self) { try await runc.delete("default_vm1") }
        #expect(running?.code == .invalidState)
        #expect(runcCause(running) == .containerRunning(id: "default_vm1"))

        let stopped = await #expect(throws: VirtError.self) { try await runc.kill("default_vm1") }
        #expect(runcCause(stopped) == .containerNotRunning(id: "default_vm1"))

        let other = await #expect(throws: VirtError.self) { try await runc.start("default_vm1") }
        #expect(runcCause(other) == .commandFailed(command: "runc --root /run/swiftvirt/runc start default_vm1", exitCode: 1, message: "something \"odd\""))

        let garbled = await #expect(throws: VirtError.self) { try await runc.list() }
        if case .malformedOutput = runcCause(garbled) {} else { Issue.record("expected malformedOutput, got \(String(describing: garbled))") }
    }

    @Test func invalidIDsNeverReachRunc() async throws {
        let runner = RecordingRunner()
        for id in ["", ".", "..", "a/b", "a b", "ünï"] {
            let error = await #expect(throws: VirtError.self) { try await runc(runner).state(id) }
            #expect(error?.code == .invalid)
        }
        #expect(runner.recorded.isEmpty)
        try Runc.validate("default_virt-launcher-vm1-x.y+z")
    }

    @Test func missingRuncSaysHowToInstallIt() async throws {
        let runner = RecordingRunner { _ in throw VirtError(.notFound, "runc is not installed") }
        let error = await #expect(throws: VirtError.self) { try await runc(runner).list() }
        #expect(runcCause(error) == .notInstalled(executable: "runc"))
        #expect(error?.description.contains("make deps") == true)
    }

    @Test func execReturnsTheProgramsExitCodeButThrowsRuncsOwnFailures() async throws {
        let runner = RecordingRunner { call in
            call.arguments.last == "fail"
                ? CommandResult(exitCode: 3, stdout: Array("out".utf8), stderr: Array("level=error msg=\"mine\"".utf8))
                : CommandResult(exitCode: 255, stderr: runcErrorLine("exec failed: container does not exist"))
        }
        let result = try await runc(runner).exec("default_vm1", ["sh", "-c", "fail"])
        #expect(result.exitCode == 3)
        #expect(result.stdoutText == "out")

        let error = await #expect(throws: VirtError.self) { try await runc(runner).exec("default_vm1", ["true"]) }
        #expect(error?.code == .notFound)
        await #expect(throws: VirtError.self) { try await runc(runner).exec("default_vm1", []) }
    }

    @Test func failedStartReportsWhatRuncWroteToTheErrorLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvirt-runc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/stderr.log"
        try "earlier output of the pod\n".write(toFile: log, atomically: true, encoding: .utf8)
        let runner = RecordingRunner { _ in
            CommandResult(exitCode: 1, stderr: runcErrorLine("runc run failed: container with given ID already exists"))
        }
        let error = await #expect(throws: VirtError.self) {
            try await runc(runner).run("default_vm1", bundle: directory, options: .init(streams: .init(output: directory + "/stdout.log", error: log)))
        }
        #expect(error?.code == .exists)
        #expect(runcCause(error) == .containerExists(id: "default_vm1", root: "/run/swiftvirt/runc"))
    }
}
