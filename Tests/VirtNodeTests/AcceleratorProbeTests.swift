import Foundation
import Testing
@testable import VirtNode

@Suite struct AcceleratorProbeTests {
    @Test func aVerdictIsRememberedOnlyForTheSameBootQEMUAndKernel() throws {
        let path = NSTemporaryDirectory() + "probe-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let verdict = AcceleratorProbe.Result(accelerator: .tcg, reason: "/dev/kvm exists but a guest kernel under KVM ended before reaching its init")
        AcceleratorProbe.remember(verdict, identity: "boot-1 qemu:1:2 vmlinuz:3:4", at: path)
        let again = try #require(AcceleratorProbe.remembered(at: path, identity: "boot-1 qemu:1:2 vmlinuz:3:4"))
        #expect(again.accelerator == .tcg)
        #expect(again.reason.hasPrefix(verdict.reason))
        // Another boot, another QEMU or another kernel: probe again.
        #expect(AcceleratorProbe.remembered(at: path, identity: "boot-2 qemu:1:2 vmlinuz:3:4") == nil)
        #expect(AcceleratorProbe.remembered(at: path, identity: "boot-1 qemu:1:9 vmlinuz:3:4") == nil)
    }

    @Test func theIdentityNamesTheBootAndBothFiles() throws {
        let identity = AcceleratorProbe.identity(qemu: "/bin/sh", kernel: "/bin/true")
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(identity.hasPrefix(boot))
        #expect(identity.contains("/bin/sh:") && identity.contains("/bin/true:"))
    }

    @Test func emulationForcedNeedsNoProbe() async {
        let result = await AcceleratorProbe(guestDirectory: "/nonexistent").probe(forceEmulation: true)
        #expect(result.accelerator == .tcg)
        #expect(result.reason.contains("--emulation"))
    }
}
