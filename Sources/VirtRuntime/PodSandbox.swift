import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VirtError
import VirtOS

/// Runs pods as runc containers for the node agent: `prepare` lays out the bundle, `start` runs it,
/// `status` / `stop` / `exec` act on it by container id, and `adoptExisting` finds the sandboxes a
/// previous agent process left running.
///
/// A sandbox costs no process of its own: `runc run --detach` returns once the pod's process runs, and
/// nothing (no shim, no monitor) stays behind. With a `reaper` (the agent being a child subreaper),
/// the pod's process is re-parented to the agent, which then reaps it and learns its exit status.
public struct PodSandbox: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Parent directory of the per-pod bundles (`PODS/ID`). Disk overlays live in the pods' state
        /// directories, so this is on disk, not tmpfs.
        public var podsDirectory: String
        /// The cgroup (relative to the cgroup root) under which each pod gets `PARENT/ID`.
        public var cgroupParent: String

        public init(podsDirectory: String = "/var/lib/swiftvirt/pods", cgroupParent: String = "/swiftvirt") {
            self.podsDirectory = podsDirectory
            self.cgroupParent = cgroupParent
        }
    }

    /// Options of `stop(_:options:)`.
    public struct StopOptions: Sendable, Equatable {
        /// How long the process has after SIGTERM before SIGKILL (the pod's
        /// `terminationGracePeriodSeconds`).
        public var grace: Duration
        /// How long to wait after SIGKILL before giving up.
        public var killTimeout: Duration
        /// Keep the state directory (logs, disk overlays) after removing the container and bundle.
        public var keepState: Bool
        /// How often to look whether the process is gone.
        public var pollInterval: Duration

        public init(grace: Duration = .seconds(30), killTimeout: Duration = .seconds(10), keepState: Bool = false,
                    pollInterval: Duration = .milliseconds(20)) {
            self.grace = grace
            self.killTimeout = killTimeout
            self.keepState = keepState
            self.pollInterval = pollInterval
        }
    }

    public var configuration: Configuration
    public var runc: Runc
    /// When set, the process of each started sandbox is watched, so it is reaped when it dies.
    public var reaper: Subreaper?

    public init(configuration: Configuration = .init(), runc: Runc = Runc(), reaper: Subreaper? = nil) {
        self.configuration = configuration
        self.runc = runc
        self.reaper = reaper
    }

    /// The bundle of container `id`.
    public func bundle(for id: String) -> OCIBundle {
        OCIBundle(path: configuration.podsDirectory + "/" + id)
    }

    /// Writes the sandbox's bundle (`config.json`, rootfs, state directory). `host` defaults to probing
    /// this machine. The cgroup is `cgroupParent/ID` unless the spec names one.
    @discardableResult
    public func prepare(_ spec: PodSandboxSpec, host: HostLayout? = nil) throws -> OCIBundle {
        try Runc.validate(spec.id)
        var spec = spec
        if spec.cgroupsPath == nil { spec.cgroupsPath = configuration.cgroupParent + "/" + spec.id }
        if spec.openFilesLimit == nil { spec.openFilesLimit = Self.openFilesHardLimit() }
        let bundle = bundle(for: spec.id)
        let layout = host ?? HostLayout.probe(devices: spec.devices)
        try bundle.create(configuration: spec.ociConfiguration(bundle: bundle, host: layout), host: layout)
        return bundle
    }

    /// Starts a prepared sandbox (`runc run --detach`), its output going to the state directory's logs.
    /// Returns its state, with the process's host pid (`created` is left out when the process runs).
    @discardableResult
    public func start(_ id: String) async throws -> ContainerState {
        let bundle = bundle(for: id)
        guard bundle.exists else {
            throw VirtError(.notFound, "sandbox \(id) has no bundle at \(bundle.path): prepare it before starting it")
        }
        try await runc.run(id, bundle: bundle.path, options: .init(pidFile: bundle.pidFilePath, streams: bundle.streams))
        let pid = Self.readPID(bundle.pidFilePath)
        if let reaper, let pid { reaper.watch(pid) }
        // runc wrote the pid file once the process ran; while it still runs, its state is known without
        // another runc call (15–30 ms on a busy 2-core host).
        if let pid, LinuxProcess.isRunning(pid) {
            let annotations = try? bundle.readConfiguration()["annotations"]?.objectValue?.compactMapValues(\.stringValue)
            return ContainerState(id: id, pid: pid, status: .running, bundle: bundle.path, rootfs: bundle.rootfsPath, annotations: annotations)
        }
        return try await runc.state(id)
    }

    /// The sandbox's state, or `nil` when runc has no such container.
    public func status(_ id: String) async throws -> ContainerState? {
        // Without its directory under runc's root, runc has no such container: no need to start runc (15–30 ms)
        // to hear it say so, as every new pod would.
        guard runc.hasStateDirectory(id) else { return nil }
        do {
            return try await runc.state(id)
        } catch let error as VirtError where error.cause is RuncError && error.code == .notFound {
            return nil
        }
    }

    /// Stops the sandbox: SIGTERM, up to `grace` for the process to exit, then SIGKILL to every process
    /// in it; then deletes the container (and its cgroup) and removes the bundle. Stopping a sandbox that
    /// does not exist only removes what is left of its bundle.
    public func stop(_ id: String, options: StopOptions = .init()) async throws {
        if let state = try await status(id) {
            if state.isAlive {
                let pid = state.pid
                let startTime = LinuxProcess.stat(pid)?.startTime
                // A frozen process cannot act on a signal, and on cgroup v1 not even die of SIGKILL.
                if state.status == .paused { try await ignoringNotRunning { try await runc.resume(id) } }
                try await ignoringNotRunning { try await runc.kill(id, signal: SIGTERM) }
                if !(await waitUntilGone(pid, startTime: startTime, timeout: options.grace, interval: options.pollInterval)) {
                    try await ignoringNotRunning { try await runc.kill(id, signal: SIGKILL, options: .init(all: true)) }
                    guard await waitUntilGone(pid, startTime: startTime, timeout: options.killTimeout, interval: options.pollInterval) else {
                        throw VirtError(.timeout, "sandbox \(id): process \(pid) still runs \(options.killTimeout) after SIGKILL (stuck in the kernel?)")
                    }
                }
            }
            do {
                try await runc.delete(id, options: .force)
            } catch let error as VirtError where error.code == .notFound {
                // Gone already.
            }
            if let reaper { reaper.reap() }
        }
        try bundle(for: id).remove(keepingState: options.keepState)
    }

    /// Runs a program inside the sandbox (`swiftvirt exec POD -- qemu-img info …`).
    public func exec(_ id: String, _ arguments: [String], options: Runc.ExecOptions = .init()) async throws -> CommandResult {
        try await runc.exec(id, arguments, options: options)
    }

    /// Freezes every process of the sandbox.
    public func pause(_ id: String) async throws { try await runc.pause(id) }

    /// Thaws a paused sandbox.
    public func resume(_ id: String) async throws { try await runc.resume(id) }

    /// The sandboxes that exist under this agent's runc root and pods directory: after an agent
    /// restart these are re-adopted (matched to pods by their annotations), not restarted.
    public func adoptExisting() async throws -> [ContainerState] {
        let prefix = configuration.podsDirectory.hasSuffix("/") ? configuration.podsDirectory : configuration.podsDirectory + "/"
        return try await runc.list().filter { $0.bundle.hasPrefix(prefix) }
    }

    // MARK: Helpers

    private func waitUntilGone(_ pid: Int32, startTime: UInt64?, timeout: Duration, interval: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            reaper?.reap()
            let stat = LinuxProcess.stat(pid)
            if stat == nil || stat?.state == "Z" || stat?.state == "X" || (startTime != nil && stat?.startTime != startTime) {
                return true
            }
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: interval)
        }
    }

    private func ignoringNotRunning(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as VirtError where error.code == .invalidState || error.code == .notFound {
            // It stopped (or vanished) on its own in the meantime.
        }
    }

    /// This process's hard `RLIMIT_NOFILE`, which a sandbox may use without privilege.
    private static func openFilesHardLimit() -> Int64? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_max != rlim_t.max else { return nil }
        return Int64(clamping: limit.rlim_max)
    }

    private static func readPID(_ path: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
