import Foundation
import Testing
import VirtOS

@Suite struct RedirectingRunnerTests {
    /// Descriptors of this process open on files under `directory` (other tests run in parallel, so
    /// only these are ours to count).
    func openDescriptors(under directory: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)"))?.hasPrefix(directory) == true }.count
    }

    @Test func streamsGoToFilesAndExitCodesComeBack() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvirt-streams-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "input line\n".write(toFile: directory + "/in", atomically: true, encoding: .utf8)
        let streams = StandardStreams(input: directory + "/in", output: directory + "/out", error: directory + "/err")
        let runner = ProcessRunner()

        let code = try await runner.run("/bin/sh", ["-c", "cat; echo to-err >&2; exit 3"], environment: nil, streams: streams)
        #expect(code == 3)
        // Appended, not overwritten.
        _ = try await runner.run("/bin/sh", ["-c", "echo again"], environment: ["X": "1"], streams: streams)
        #expect(FileManager.default.contents(atPath: directory + "/out") == Data("input line\nagain\n".utf8))
        #expect(FileManager.default.contents(atPath: directory + "/err") == Data("to-err\n".utf8))

        let killed = try await runner.run("/bin/sh", ["-c", "kill -9 $$"], environment: nil, streams: .null)
        #expect(killed == 128 + 9)

        // A child left running keeps the files; the call returns without waiting for it, and no
        // descriptor stays open in this process.
        // The child is still alive when the call has returned: the call did not wait for it.
        let pidFile = directory + "/child.pid"
        _ = try await runner.run("/bin/sh", ["-c", "sleep 60 & echo $! > \(pidFile); echo started"], environment: nil, streams: streams)
        let childPID = try #require(Int32(String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(childPID, SIGKILL) }
        #expect(kill(childPID, 0) == 0, "the background child should still run after the call returned")
        #expect(openDescriptors(under: directory) == 0)
    }
}
