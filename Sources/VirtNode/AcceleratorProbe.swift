import Foundation
import VirtOS

/// Finds out whether KVM really runs guest code here: `/dev/kvm` can exist and still hang (nested
/// virtualisation), so the probe starts a tiny guest with KVM and watches its firmware write to the
/// debug console port. No output in time means TCG.
public struct AcceleratorProbe: Sendable {
    public enum Accelerator: String, Sendable {
        case kvm, tcg
    }

    public struct Result: Sendable {
        public var accelerator: Accelerator
        /// Why, in words for the Node's condition.
        public var reason: String
    }

    public var timeout: Duration

    public init(timeout: Duration = .seconds(5)) {
        self.timeout = timeout
    }

    public func probe(forceEmulation: Bool) async -> Result {
        if forceEmulation { return Result(accelerator: .tcg, reason: "emulation forced with --emulation") }
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            return Result(accelerator: .tcg, reason: "/dev/kvm does not exist; running guests under TCG emulation")
        }
        guard let qemu = try? ProcessRunner.lookup("qemu-system-x86_64") else {
            return Result(accelerator: .tcg, reason: "qemu-system-x86_64 is not installed")
        }
        let directory = NSTemporaryDirectory() + "swiftvirt-kvm-probe-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/debugcon.log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments = [
            // The CPU model guests get under KVM (host-model → `-cpu host`): nested hosts can run a
            // default-CPU guest yet abort on the host model's MSRs.
            "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "32", "-nodefaults", "-no-user-config", "-display", "none",
            "-debugcon", "file:\(log)", "-global", "isa-debugcon.iobase=0x402", "-no-reboot",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return Result(accelerator: .tcg, reason: "could not start QEMU with KVM: \(error)")
        }
        defer {
            if process.isRunning { process.terminate() }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let size = (try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int, size > 0 {
                return Result(accelerator: .kvm, reason: "KVM runs guest code")
            }
            if !process.isRunning { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return Result(accelerator: .tcg, reason: "/dev/kvm exists but a KVM guest with the host CPU model did not run within \(timeout); running guests under TCG emulation")
    }
}
