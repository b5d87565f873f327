import Foundation
import Testing
import VirtAPI
import VirtError
import VirtOS
@testable import VirtRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Real runc, as root: the sandbox a pod's process (QEMU) runs in.
/// Needs root and runc: `make test` runs as root after `make deps`.
@Suite(.serialized)
struct PodSandboxIntegrationTests {
    static let state = PodSandboxSpec.stateMountPath

    func pod(_ name: String, memory: String = "256Mi", cpu: String = "500m") throws -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default"))
        pod.metadata?.uid = UUID().uuidString
        var container = Container(name: "compute")
        container.resources = ResourceRequirements(limits: ["memory": try Quantity(memory), "cpu": try Quantity(cpu)])
        pod.spec = PodSpec(containers: [container])
        return pod
    }

    @Test func sandboxRunsTheProcessIsolatedAndLimited() async throws {
        try await withSandboxFixture { fixture in
            let sandbox = fixture.sandbox
            let spec = try PodSandboxSpec(pod: pod("sandbox-test"), process: .init(arguments: [
                "/bin/sh", "-c",
                "echo $$ > \(Self.state)/pid; hostname > \(Self.state)/hostname; echo started; echo oops >&2; sleep 300",
            ]))
            let bundle = try sandbox.prepare(spec)
            let state = try await sandbox.start(spec.id)
            #expect(state.status == .running)
            #expect(state.pid > 0)
            #expect(state.bundle == bundle.path)
            #expect(state.annotations?[PodSandboxSpec.podNameAnnotation] == "sandbox-test")

            // The process wrote into its state directory: it is pid 1 of its own pid namespace, and the
            // hostname is the pod's name.
            #expect(await fixture.eventually { readFile(bundle.statePath + "/hostname")?.hasSuffix("\n") == true })
            #expect(readFile(bundle.statePath + "/pid")?.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
            #expect(readFile(bundle.statePath + "/hostname")?.trimmingCharacters(in: .whitespacesAndNewlines) == "sandbox-test")
            #expect(await fixture.eventually { readFile(bundle.stdoutPath) == "started\n" })
            #expect(readFile(bundle.stderrPath) == "oops\n")

            // Own namespaces.
            for kind in ["net", "pid", "mnt", "uts", "ipc"] {
                let inside = LinuxProcess.namespace(kind, of: state.pid)
                #expect(inside != nil)
                #expect(inside != LinuxProcess.namespace(kind, of: getpid()), "\(kind) namespace is shared with the host")
            }

            // Read-only system directories, writable state directory.
            let usr = try await sandbox.exec(spec.id, ["/bin/sh", "-c", "touch /usr/swiftvirt-probe"])
            #expect(usr.exitCode != 0)
            #expect(usr.stderrText.contains("Read-only file system"))
            #expect(!FileManager.default.fileExists(atPath: "/usr/swiftvirt-probe"))
            let etc = try await sandbox.exec(spec.id, ["/bin/sh", "-c", "echo x > /etc/swiftvirt-probe"])
            #expect(etc.exitCode != 0)
            let root = try await sandbox.exec(spec.id, ["/bin/sh", "-c", "mkdir /swiftvirt-probe"])
            #expect(root.exitCode != 0)
            let write = try await sandbox.exec(spec.id, ["/bin/sh", "-c", "echo hello > \(Self.state)/written"])
            #expect(write.exitCode == 0)
            #expect(readFile(bundle.statePath + "/written") == "hello\n")

            // cgroup limits from the pod's resources.
            let cgroup = SandboxCgroup(path: "\(fixture.cgroupParent)/\(spec.id)")
            #expect(cgroup.memoryLimit == Int64(268_435_456))  // 256Mi
            #expect(cgroup.cpuQuota?.quota == 50_000)
            #expect(cgroup.cpuQuota?.period == 100_000)
            #expect(cgroup.processes.contains(state.pid))

            // The process: no new privileges, only the sandbox's capabilities.
            let status = try await sandbox.exec(spec.id, ["cat", "/proc/self/status"])
            #expect(status.exitCode == 0)
            #expect(status.stdoutText.contains("NoNewPrivs:\t1"))
            // CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_SYS_NICE (23).
            let mask = String((1 << 10) | (1 << 12) | (1 << 23), radix: 16)
            let expected = String(repeating: "0", count: 16 - mask.count) + mask
            #expect(status.stdoutText.contains("CapEff:\t\(expected)"))
            #expect(status.stdoutText.contains("CapBnd:\t\(expected)"))

            // Host devices passed in when present.
            for device in ["/dev/kvm", "/dev/net/tun"] where FileManager.default.fileExists(atPath: device) {
                let test = try await sandbox.exec(spec.id, ["test", "-c", device])
                #expect(test.exitCode == 0, "\(device) missing in the sandbox")
            }
            // Devices not passed are neither there nor usable.
            let mknod = try await sandbox.exec(spec.id, ["/bin/sh", "-c", "mknod /dev/sda-probe b 8 0 && head -c1 /dev/sda-probe"])
            #expect(mknod.exitCode != 0)

            // The host's disk tools are there.
            let qemuImg = try await sandbox.exec(spec.id, ["qemu-img", "--version"])
            #expect(qemuImg.exitCode == 0)
            #expect(qemuImg.stdoutText.contains("qemu-img version"))

            // No per-pod process besides the workload: no runc, no shim left once `run --detach` returned.
            let runcProcesses = LinuxProcess.all().filter { pid in
                let arguments = LinuxProcess.arguments(of: pid)
                return arguments.first.map { $0.hasSuffix("runc") } == true && arguments.contains(fixture.directory + "/runc")
            }
            #expect(runcProcesses.isEmpty)
            // The workload was re-parented to us, the subreaper.
            #expect(LinuxProcess.stat(state.pid)?.parentPID == getpid())

            // A restarted agent finds it again.
            let adopted = try await sandbox.adoptExisting()
            #expect(adopted.map(\.id) == [spec.id])
            #expect(adopted.first?.pid == state.pid)

            // sh as pid 1 ignores SIGTERM: stop escalates to SIGKILL after the grace period.
            let clock = ContinuousClock()
            let stopped = try await clock.measure {
                try await sandbox.stop(spec.id, options: .init(grace: .milliseconds(500)))
            }
            // Escalated rather than hung (the bound only tells the two apart).
            #expect(stopped < .seconds(30))
            #expect(try await sandbox.status(spec.id) == nil)
            #expect(!FileManager.default.fileExists(atPath: bundle.path))
            #expect(!cgroup.exists)
            #expect(!LinuxProcess.isRunning(state.pid))
            #expect(fixture.reaper.takeExit(of: state.pid)?.status == .signaled(SIGKILL))
        }
    }

    @Test func qemuRunsInTheSandboxWithAQMPSocketTheHostCanDrive() async throws {
        try await withSandboxFixture { fixture in
            let sandbox = fixture.sandbox
            // As the sandbox's process: prints its version and exits.
            let version = try PodSandboxSpec(pod: pod("qemu-version"), process: .init(arguments: ["qemu-system-x86_64", "--version"]))
            let versionBundle = try sandbox.prepare(version)
            try await sandbox.start(version.id)
            #expect(try await fixture.eventually { try await sandbox.status(version.id)?.status == .stopped })
            #expect(readFile(versionBundle.stdoutPath)?.contains("QEMU emulator version") == true)
            #expect(await fixture.eventually { fixture.reaper.reap(); return fixture.reaper.watched.isEmpty })

            // exec into a stopped sandbox says so.
            let error = await #expect(throws: VirtError.self) { try await sandbox.exec(version.id, ["true"]) }
            #expect(error?.code == .invalidState)
            try await sandbox.stop(version.id)
            #expect(!FileManager.default.fileExists(atPath: versionBundle.path))

            // A long-running QEMU whose QMP socket is in the state directory.
            let qemu = try PodSandboxSpec(pod: pod("qemu-qmp", memory: "512Mi"), process: .init(arguments: [
                "qemu-system-x86_64", "-machine", "none", "-display", "none", "-nodefaults",
                "-qmp", "unix:\(Self.state)/qmp.sock,server=on,wait=off",
            ]))
            let bundle = try sandbox.prepare(qemu)
            let state = try await sandbox.start(qemu.id)
            #expect(state.status == .running)
            let socket = bundle.statePath + "/qmp.sock"
            #expect(await fixture.eventually { FileManager.default.fileExists(atPath: socket) })

            let client = try UnixSocketClient(path: socket)
            #expect(client.readLine().contains("\"QMP\""))
            client.send("{\"execute\":\"qmp_capabilities\"}\n")
            #expect(client.readLine().contains("\"return\""))
            client.send("{\"execute\":\"query-status\"}\n")
            #expect(client.readLine().contains("\"status\": \"running\""))

            let qemuCgroup = SandboxCgroup(path: "\(fixture.cgroupParent)/\(qemu.id)")
            #expect(qemuCgroup.memoryLimit == Int64(536_870_912))  // 512Mi
            #expect(qemuCgroup.processes == [state.pid])

            // QEMU exits on SIGTERM: no need to wait out the grace period.
            let clock = ContinuousClock()
            let stopped = try await clock.measure { try await sandbox.stop(qemu.id, options: .init(grace: .seconds(60), keepState: true)) }
            // Well before the 60 s grace: the stop ended when QEMU exited, not when the grace ran out.
            #expect(stopped < .seconds(30))
            #expect(readFile(bundle.stderrPath)?.contains("terminating on signal 15") == true)
            #expect(fixture.reaper.takeExit(of: state.pid)?.status == .exited(0))
            #expect(!bundle.exists)
            #expect(FileManager.default.fileExists(atPath: bundle.stderrPath))
        }
    }

    @Test func pauseResumeAndLeftovers() async throws {
        try await withSandboxFixture { fixture in
            let sandbox = fixture.sandbox
            let spec = try PodSandboxSpec(pod: pod("paused"), process: .init(arguments: ["sleep", "300"]))
            try sandbox.prepare(spec)
            let state = try await sandbox.start(spec.id)
            try await sandbox.pause(spec.id)
            #expect(try await sandbox.status(spec.id)?.status == .paused)
            try await sandbox.resume(spec.id)
            #expect(try await sandbox.status(spec.id)?.status == .running)
            try await sandbox.pause(spec.id)
            // Stopping a paused sandbox thaws it first. `sleep` as pid 1 of its namespace ignores SIGTERM
            // (pid 1 gets no default signal actions), so SIGKILL follows the grace period.
            try await sandbox.stop(spec.id, options: .init(grace: .milliseconds(200)))
            #expect(try await sandbox.status(spec.id) == nil)
            #expect(!LinuxProcess.isRunning(state.pid))

            // Starting twice is refused with the container named.
            try sandbox.prepare(spec)
            try await sandbox.start(spec.id)
            let twice = await #expect(throws: VirtError.self) { try await sandbox.start(spec.id) }
            #expect(twice?.code == .exists)
            try await sandbox.stop(spec.id, options: .init(grace: .milliseconds(200)))

            // Stopping what does not run removes the leftover bundle.
            let leftover = try sandbox.prepare(PodSandboxSpec(id: "default_leftover", hostname: "leftover", process: .init(arguments: ["true"])))
            try await sandbox.stop("default_leftover")
            #expect(!FileManager.default.fileExists(atPath: leftover.path))
            let missing = await #expect(throws: VirtError.self) { try await sandbox.start("default_leftover") }
            #expect(missing?.code == .notFound)
            #expect(try await sandbox.adoptExisting().isEmpty)
        }
    }
}
