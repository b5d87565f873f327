import Foundation

/// A sandbox's cgroup as the kernel shows it, on cgroup v2 (unified) or v1 (one hierarchy per
/// controller, as on hosts still booted with v1 or hybrid): its limits and usage, read back.
public struct SandboxCgroup: Sendable, Equatable {
    /// `linux.cgroupsPath` of the sandbox, e.g. `/swiftvirt/ns_pod`.
    public var path: String
    /// Where the cgroup filesystems are mounted.
    public var mountPoint: String

    public init(path: String, mountPoint: String = "/sys/fs/cgroup") {
        self.path = path
        self.mountPoint = mountPoint
    }

    /// Whether the host uses the unified (v2) hierarchy at `mountPoint`.
    public var isUnified: Bool {
        FileManager.default.fileExists(atPath: mountPoint + "/cgroup.controllers")
    }

    /// The directory of `controller` for this cgroup (v2 has one directory for all).
    public func directory(controller: String) -> String {
        isUnified ? mountPoint + path : mountPoint + "/" + controller + path
    }

    /// Whether the cgroup exists (its memory directory does).
    public var exists: Bool {
        FileManager.default.fileExists(atPath: directory(controller: "memory"))
    }

    /// The memory limit in bytes; `nil` when unlimited or absent.
    public var memoryLimit: Int64? {
        let text = isUnified ? read("memory", "memory.max") : read("memory", "memory.limit_in_bytes")
        guard let text, let value = Int64(text) else { return nil }
        // v1 reports "unlimited" as a page-rounded Int64.max.
        return value >= Int64.max - 4096 * 4096 ? nil : value
    }

    /// Memory in use, in bytes.
    public var memoryUsage: Int64? {
        (isUnified ? read("memory", "memory.current") : read("memory", "memory.usage_in_bytes")).flatMap { Int64($0) }
    }

    /// The CFS quota and period in microseconds; `nil` when unlimited.
    public var cpuQuota: (quota: Int64, period: Int64)? {
        if isUnified {
            let fields = read("cpu", "cpu.max")?.split(separator: " ") ?? []
            guard fields.count == 2, let quota = Int64(fields[0]), let period = Int64(fields[1]) else { return nil }
            return (quota, period)
        }
        guard let quota = read("cpu", "cpu.cfs_quota_us").flatMap({ Int64($0) }), quota > 0,
              let period = read("cpu", "cpu.cfs_period_us").flatMap({ Int64($0) }) else { return nil }
        return (quota, period)
    }

    /// The pids of every process in the cgroup.
    public var processes: [Int32] {
        (read("memory", "cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    private func read(_ controller: String, _ file: String) -> String? {
        guard let data = FileManager.default.contents(atPath: directory(controller: controller) + "/" + file) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
