import Synchronization
import VirtError
#if canImport(Glibc)
import Glibc
#endif

/// Makes this process a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`) and reaps the children
/// handed to it.
///
/// What it gives the node agent:
/// - `runc run --detach` forks the container's init and exits, so the container's process (QEMU) is
///   orphaned at once. With the agent a subreaper, the orphan is re-parented to the agent instead of to
///   the host's init: the agent learns the workload's exit status (code or signal) the moment it dies,
///   which `runc state` cannot tell (it only says `stopped`).
/// - Dead workloads do not linger as zombies: `watch(_:)` a container's pid, and `reap()` or `run()`
///   collects it.
///
/// What it does not give:
/// - Containers do not depend on it to survive: a container's process is never a child of the agent's
///   *lifetime*. When the agent dies its orphans go to the host's init (or the next subreaper above)
///   and keep running; QEMU is not killed with the agent.
/// - A restarted agent is a new process and is nobody's parent: it cannot `waitpid` the pods it finds
///   again. It re-adopts them with `runc list` / `runc state` and watches their pids by polling
///   (`LinuxProcess.isRunning`), without exit statuses.
///
/// Only watched pids are reaped, never `waitpid(-1)`: Foundation's `Process` (behind `ProcessRunner`)
/// waits for its own children by pid, and reaping those here would steal their exit statuses.
/// Polling instead of a SIGCHLD handler keeps signal dispositions untouched for the rest of the process.
public final class Subreaper: Sendable {
    /// How a reaped child ended.
    public struct Exit: Sendable, Equatable, CustomStringConvertible {
        public enum Status: Sendable, Equatable {
            /// It called `exit(code)`.
            case exited(Int32)
            /// A signal killed it.
            case signaled(Int32)
        }
        public var pid: Int32
        public var status: Status

        public init(pid: Int32, status: Status) {
            self.pid = pid
            self.status = status
        }

        public var description: String {
            switch status {
            case .exited(let code): "process \(pid) exited with code \(code)"
            case .signaled(let signal): "process \(pid) was killed by signal \(signal)"
            }
        }
    }

    private struct State {
        var watched: Set<Int32> = []
        /// The latest exits, for `takeExit(of:)`, at most `Subreaper.remembered`.
        var exits: [Int32: Exit] = [:]
        var order: [Int32] = []
        /// Exits not yet handed to `run`'s `onExit` (collected only while `run` runs).
        var pending: [Exit] = []
        var running = false

        mutating func record(_ exit: Exit) {
            if exits.updateValue(exit, forKey: exit.pid) == nil { order.append(exit.pid) }
            if order.count > Subreaper.remembered { exits.removeValue(forKey: order.removeFirst()) }
            if running { pending.append(exit) }
        }
    }
    private static let remembered = 1024
    private let state = Mutex(State())

    public init() {}

    /// Marks this process a child subreaper. Orphaned descendants are re-parented to it from now on.
    public static func enable() throws {
        guard prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 else {
            throw VirtError(.internal, "cannot become a child subreaper (prctl PR_SET_CHILD_SUBREAPER): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether this process is a child subreaper.
    public static var isEnabled: Bool {
        var value: Int32 = 0
        let result = withUnsafeMutablePointer(to: &value) { prctl(PR_GET_CHILD_SUBREAPER, UInt(bitPattern: $0)) }
        return result == 0 && value != 0
    }

    /// Reaps `pid` once it dies, if it is our child (re-parented to us); if it already died (a zombie
    /// waiting for us), the next `reap()` collects it. Returns whether it is watched: a pid that is not
    /// our child is not, so a later process reusing its number is never reaped by mistake.
    @discardableResult
    public func watch(_ pid: Int32) -> Bool {
        guard pid > 0, LinuxProcess.stat(pid)?.parentPID == getpid() else { return false }
        state.withLock { _ = $0.watched.insert(pid) }
        return true
    }

    /// Stops watching `pid` (e.g. after a container was deleted and its pid is not our child).
    public func unwatch(_ pid: Int32) {
        state.withLock { _ = $0.watched.remove(pid) }
    }

    /// The pids being watched.
    public var watched: Set<Int32> { state.withLock { $0.watched } }

    /// Collects every watched child that has died, without blocking. A watched pid that is not our
    /// child (`ECHILD`: it was never re-parented to us) is dropped silently.
    @discardableResult
    public func reap() -> [Exit] {
        state.withLock { state in
            var reaped: [Exit] = []
            for pid in state.watched {
                var status: Int32 = 0
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid {
                    let exit = Exit(pid: pid, status: Self.decode(status))
                    state.record(exit)
                    state.watched.remove(pid)
                    reaped.append(exit)
                } else if result < 0 && errno == ECHILD {
                    state.watched.remove(pid)
                }
            }
            return reaped
        }
    }

    /// How `pid` ended, if this reaper collected it. Forgets it afterwards.
    public func takeExit(of pid: Int32) -> Exit? {
        state.withLock { $0.exits.removeValue(forKey: pid) }
    }

    /// Reaps every `interval` until the task is cancelled, handing each exit to `onExit`, including
    /// exits other callers of `reap()` collected meanwhile. The node agent runs this as a service.
    public func run(interval: Duration = .milliseconds(200), onExit: @Sendable (Exit) async -> Void = { _ in }) async {
        state.withLock { $0.running = true }
        defer { state.withLock { $0.running = false; $0.pending.removeAll() } }
        while !Task.isCancelled {
            reap()
            let exits = state.withLock { state in
                defer { state.pending.removeAll() }
                return state.pending
            }
            for exit in exits { await onExit(exit) }
            try? await Task.sleep(for: interval)
        }
    }

    private static func decode(_ status: Int32) -> Exit.Status {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    // prctl(2) is variadic in C, so Swift does not import it; call it through a fixed signature,
    // which passes the same registers on x86-64 and arm64 Linux.
    private typealias PrctlFunction = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    private static let PR_SET_CHILD_SUBREAPER: Int32 = 36
    private static let PR_GET_CHILD_SUBREAPER: Int32 = 37

    private static func prctl(_ option: Int32, _ argument: UInt) -> Int32 {
        guard let symbol = dlsym(nil, "prctl") else {
            errno = ENOSYS
            return -1
        }
        return unsafeBitCast(symbol, to: PrctlFunction.self)(option, argument, 0, 0, 0)
    }
}
