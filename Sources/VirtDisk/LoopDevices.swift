import Foundation
import VirtError
import VirtOS

/// `losetup`, for `Block` volumes kept in files: a loop device over the file is the raw block device QEMU
/// opens. Runs through an injectable runner, so tests can see the exact command lines.
public struct LoopDevices: Sendable {
    let runner: any CommandRunner
    let executable: String

    public init(runner: any CommandRunner = ProcessRunner(), executable: String = "losetup") {
        self.runner = runner
        self.executable = executable
    }

    /// Attaches a free loop device to `file` (`losetup --find --show`) and returns its path.
    public func attach(_ file: String, readOnly: Bool) async throws -> String {
        let result = try await runner.check(executable, ["--find", "--show"] + (readOnly ? ["--read-only"] : []) + [file])
        let device = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard device.hasPrefix("/dev/") else {
            throw VirtError(.internal, "\(executable) --find --show \(file) named no device (it printed \"\(device)\"); is /dev/loop-control present?")
        }
        return device
    }

    /// The loop devices attached to `file` (`losetup --associated`).
    public func devices(backing file: String) async throws -> [String] {
        let result = try await runner.check(executable, ["--associated", file])
        return result.stdoutText.split(separator: "\n").compactMap { line in
            line.split(separator: ":", maxSplits: 1).first.map(String.init).flatMap { $0.hasPrefix("/dev/") ? $0 : nil }
        }
    }

    /// Detaches `device` (`losetup --detach`). A device still open (QEMU has not exited yet) is detached by
    /// the kernel when it is last closed.
    public func detach(_ device: String) async throws {
        _ = try await runner.check(executable, ["--detach", device])
    }
}
