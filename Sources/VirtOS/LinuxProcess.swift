import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Facts about a process read from `/proc`, for processes that are not our children (re-adopted
/// pods, processes inside containers).
public enum LinuxProcess {
    /// The fields of `/proc/PID/stat` the node agent uses.
    public struct Stat: Sendable, Equatable {
        public var pid: Int32
        /// The command name (at most 15 bytes, as the kernel keeps it).
        public var command: String
        /// `R`, `S`, `D`, `Z` (zombie), `T`, `X` (dead), …
        public var state: Character
        public var parentPID: Int32
        /// Start time in clock ticks after boot; with the pid it names one process across pid reuse.
        public var startTime: UInt64
    }

    /// Reads `/proc/PID/stat`; `nil` when there is no such process.
    public static func stat(_ pid: Int32, procRoot: String = "/proc") -> Stat? {
        guard let data = FileManager.default.contents(atPath: "\(procRoot)/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); starttime is field 22.
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]),
              let start = UInt64(fields[19]) else { return nil }
        return Stat(pid: pid, command: command, state: state, parentPID: parent, startTime: start)
    }

    /// Whether `pid` exists and has not exited (a zombie has exited).
    public static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0, let stat = stat(pid) else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    /// The namespace `pid` is in, as the kernel names it, e.g. `net:[4026531840]`; `kind` is a file in
    /// `/proc/PID/ns` (`net`, `mnt`, `pid`, `uts`, `ipc`, `cgroup`, `user`).
    public static func namespace(_ kind: String, of pid: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
    }

    /// The command line of `pid` (`/proc/PID/cmdline` split at NULs); empty for kernel threads and zombies.
    public static func arguments(of pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every process on the host (in our pid namespace), by pid.
    public static func all() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { Int32($0) }.sorted()
    }

    /// The processes whose parent is `pid`.
    public static func children(of pid: Int32) -> [Int32] {
        all().filter { stat($0)?.parentPID == pid }
    }
}
