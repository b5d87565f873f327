import Foundation
import VirtOS
import VirtRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A runc root, pods directory and cgroup parent of their own for one integration test, with a
/// subreaper; `withSandboxFixture` removes all of it afterwards, even when the test fails.
struct SandboxFixture {
    let directory: String
    let cgroupParent: String
    let reaper: Subreaper
    let sandbox: PodSandbox

    static var canRun: Bool {
        getuid() == 0 && (try? ProcessRunner.lookup("runc")) != nil
    }

    init() throws {
        let name = "swiftvirt-test-\(UUID().uuidString.prefix(8).lowercased())"
        directory = "/tmp/\(name)"
        cgroupParent = "/\(name)"
        try FileManager.default.createDirectory(atPath: directory + "/pods", withIntermediateDirectories: true)
        try Subreaper.enable()
        reaper = Subreaper()
        sandbox = PodSandbox(configuration: .init(podsDirectory: directory + "/pods", cgroupParent: cgroupParent),
                             runc: Runc(root: directory + "/runc"),
                             reaper: reaper)
    }

    /// Deletes every container under the fixture's runc root by id, then its files and cgroups.
    func cleanUp() async {
        for container in (try? await sandbox.runc.list()) ?? [] {
            try? await sandbox.runc.delete(container.id, options: .force)
        }
        reaper.reap()
        for container in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/pods")) ?? [] {
            try? sandbox.bundle(for: container).remove()
        }
        try? FileManager.default.removeItem(atPath: directory)
        // The parent cgroup runc made (per controller on cgroup v1); rmdir only removes empty ones.
        let controllers = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        rmdir("/sys/fs/cgroup" + cgroupParent)
        for controller in controllers { rmdir("/sys/fs/cgroup/\(controller)\(cgroupParent)") }
    }

    /// Waits until `condition` holds, up to `timeout`.
    func eventually(_ timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}

func withSandboxFixture(_ body: (SandboxFixture) async throws -> Void) async throws {
    let fixture = try SandboxFixture()
    do {
        try await body(fixture)
    } catch {
        await fixture.cleanUp()
        throw error
    }
    await fixture.cleanUp()
}

func readFile(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}
