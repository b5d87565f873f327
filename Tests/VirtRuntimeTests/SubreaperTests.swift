import Foundation
import Synchronization
import Testing
import VirtOS
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SubreaperTests {
    /// Starts an orphan (a grandchild whose parent exits at once) that exits with `code` after `delay`.
    /// It closes the descriptors it inherited: Foundation's `Process` learns that a child exited when
    /// a socket it passes down closes, so a grandchild keeping it would hold `ProcessRunner` up
    /// (bash, because dash cannot close descriptors above 9).
    func orphan(exitCode code: Int, after delay: String) async throws -> Int32 {
        let closeInherited = #"for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done"#
        let script = "/bin/bash -c '\(closeInherited); sleep \(delay); exit \(code)' >/dev/null 2>&1 </dev/null & echo $!"
        let result = try await ProcessRunner().check("/bin/sh", ["-c", script])
        return try #require(Int32(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func orphansAreReparentedToUsAndReaped() async throws {
        try Subreaper.enable()
        #expect(Subreaper.isEnabled)
        let reaper = Subreaper()

        let pid = try await orphan(exitCode: 7, after: "0.2")
        #expect(LinuxProcess.stat(pid)?.parentPID == getpid())
        #expect(reaper.watch(pid))
        // Not our child: not watched, never reaped.
        #expect(!reaper.watch(1))

        let delivered = Mutex<[Subreaper.Exit]>([])
        let service = Task { await reaper.run(interval: .milliseconds(20)) { exit in delivered.withLock { $0.append(exit) } } }
        defer { service.cancel() }
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while delivered.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(delivered.withLock { $0 } == [Subreaper.Exit(pid: pid, status: .exited(7))])
        #expect(reaper.takeExit(of: pid)?.status == .exited(7))
        #expect(reaper.takeExit(of: pid) == nil)
        #expect(reaper.watched.isEmpty)
        #expect(LinuxProcess.stat(pid) == nil)  // no zombie left
    }

    @Test func aKilledChildReportsItsSignal() async throws {
        try Subreaper.enable()
        let reaper = Subreaper()
        let pid = try await orphan(exitCode: 0, after: "30")
        #expect(reaper.watch(pid))
        #expect(reaper.reap().isEmpty)
        kill(pid, SIGKILL)
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        var exits: [Subreaper.Exit] = []
        while exits.isEmpty && ContinuousClock.now < deadline {
            exits = reaper.reap()
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(exits == [Subreaper.Exit(pid: pid, status: .signaled(SIGKILL))])
        #expect(exits.first?.description == "process \(pid) was killed by signal 9")
    }

    @Test func procStatParsesCommandsWithSpacesAndParentheses() throws {
        let stat = try #require(LinuxProcess.stat(getpid()))
        #expect(stat.pid == getpid())
        #expect(stat.parentPID == getppid())
        #expect(LinuxProcess.isRunning(getpid()))
        #expect(!LinuxProcess.isRunning(0))
        #expect(LinuxProcess.namespace("net", of: getpid())?.hasPrefix("net:[") == true)
    }
}
