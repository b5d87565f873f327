import Foundation
import VirtOS

/// Finds out whether KVM really runs guests here. `/dev/kvm` can exist and a firmware can get far enough
/// to look alive while every real guest dies with "KVM internal error" (nested virtualisation), so the
/// probe boots a real guest: the test guest's kernel and initramfs by direct kernel boot, whose init
/// prints a marker and powers off. The marker on the serial port within the time limit means KVM; anything
/// else means TCG, with QEMU's last words as the reason.
///
/// The verdict is remembered in `cachePath` for this boot of the host and this QEMU build, so an agent
/// restart does not pay for the probe again.
public struct AcceleratorProbe: Sendable {
    public enum Accelerator: String, Sendable, Codable {
        case kvm, tcg
    }

    public struct Result: Sendable, Codable, Equatable {
        public var accelerator: Accelerator
        /// Why, in words for the Node's condition.
        public var reason: String
    }

    /// The marker the test guest's init prints when booted with `swiftvirt.probe`.
    static let marker = "swiftvirt-probe: init ran"
    /// What a kernel booted without an initramfs prints once it has run all of its own start-up.
    static let kernelOnlyMarker = "VFS: Unable to mount root fs"

    public var timeout: Duration
    /// Where the guest kernel (`vmlinuz`) and initramfs (`initrd.img`) are.
    public var guestDirectory: String
    public var cachePath: String?

    public init(timeout: Duration = .seconds(20), guestDirectory: String = "/var/lib/swiftvirt/guest", cachePath: String? = nil) {
        self.timeout = timeout
        self.guestDirectory = guestDirectory
        self.cachePath = cachePath
    }

    public func probe(forceEmulation: Bool) async -> Result {
        if forceEmulation { return Result(accelerator: .tcg, reason: "emulation forced with --emulation") }
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            return Result(accelerator: .tcg, reason: "/dev/kvm does not exist; running guests under TCG emulation")
        }
        guard let qemu = try? ProcessRunner.lookup("qemu-system-x86_64") else {
            return Result(accelerator: .tcg, reason: "qemu-system-x86_64 is not installed")
        }
        guard let guest = Self.guestKernel(in: guestDirectory) else {
            return Result(accelerator: .tcg, reason: "no guest kernel to try KVM with (looked for \(guestDirectory)/vmlinuz and the host's /boot/vmlinuz-*; `make guest` builds one); running guests under TCG emulation")
        }
        let identity = Self.identity(qemu: qemu, kernel: guest.kernel)
        if let cachePath, let remembered = Self.remembered(at: cachePath, identity: identity) { return remembered }
        let result = await boot(qemu: qemu, guest: guest)
        if let cachePath { Self.remember(result, identity: identity, at: cachePath) }
        return result
    }

    struct Guest {
        var kernel: String
        var initrd: String?
    }

    /// The test guest's kernel and initramfs, else the host's own kernel (booted without an initramfs).
    static func guestKernel(in directory: String) -> Guest? {
        let manager = FileManager.default
        if manager.fileExists(atPath: directory + "/vmlinuz"), manager.fileExists(atPath: directory + "/initrd.img") {
            return Guest(kernel: directory + "/vmlinuz", initrd: directory + "/initrd.img")
        }
        let release = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let host = "/boot/vmlinuz-" + release
        if !release.isEmpty, manager.isReadableFile(atPath: host) { return Guest(kernel: host, initrd: nil) }
        return nil
    }

    func boot(qemu: String, guest: Guest) async -> Result {
        let directory = NSTemporaryDirectory() + "swiftvirt-kvm-probe-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serial = directory + "/serial.log"
        let stderrPath = directory + "/stderr.log"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        var arguments = [
            // The CPU model guests get under KVM (host-model → `-cpu host`).
            "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "256", "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "file:\(serial)", "-no-reboot", "-kernel", guest.kernel,
            "-append", "console=ttyS0 panic=-1 swiftvirt.probe",
        ]
        if let initrd = guest.initrd { arguments += ["-initrd", initrd] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: stderrPath) ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return Result(accelerator: .tcg, reason: "could not start QEMU with KVM: \(error)")
        }
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let markers = guest.initrd == nil ? [Self.kernelOnlyMarker] : [Self.marker]
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let output = (try? String(contentsOfFile: serial, encoding: .utf8)) ?? ""
            if markers.contains(where: output.contains) {
                return Result(accelerator: .kvm, reason: "KVM runs guest code (a guest kernel booted under KVM to its init)")
            }
            if !process.isRunning { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let said = ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
            .split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { "; QEMU said: \($0)" } ?? ""
        let what = process.isRunning ? "did not reach its init within \(timeout)" : "ended before reaching its init"
        return Result(accelerator: .tcg, reason: "/dev/kvm exists but a guest kernel under KVM \(what)\(said); running guests under TCG emulation")
    }

    // MARK: - Remembering the verdict

    struct Remembered: Codable {
        var identity: String
        var result: Result
    }

    /// This boot of the host, the QEMU binary and the guest kernel: a verdict holds while all three stay.
    static func identity(qemu: String, kernel: String) -> String {
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        func stamp(_ path: String) -> String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? Int) ?? 0
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(path):\(size):\(Int(modified))"
        }
        return [boot, stamp(qemu), stamp(kernel)].joined(separator: " ")
    }

    static func remembered(at path: String, identity: String) -> Result? {
        guard let data = FileManager.default.contents(atPath: path),
              let remembered = try? JSONDecoder().decode(Remembered.self, from: data), remembered.identity == identity
        else { return nil }
        var result = remembered.result
        result.reason += " (probed earlier in this boot)"
        return result
    }

    static func remember(_ result: Result, identity: String, at path: String) {
        guard let data = try? JSONEncoder().encode(Remembered(identity: identity, result: result)) else { return }
        try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
