import Foundation
import Testing
import VirtAPI
import VirtOS

@testable import VirtDisk

/// Boots the project's test guest under QEMU/TCG on disks prepared here and reads its serial console:
/// the guest must find the seed, take its host name and run its user-data.
/// `make test` builds the guest (guest/build.sh) and installs QEMU before the Swift tests run.
@Suite(.serialized)
struct GuestBootTests {
    /// Runs QEMU with `arguments` until the serial log matches every marker (or `timeout` passes); returns the log.
    static func boot(_ arguments: [String], serialLog: String, until markers: [String], timeout: Duration = .seconds(120)) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ProcessRunner.lookup("qemu-system-x86_64"))
        process.arguments = [
            "-machine", "q35,accel=tcg", "-m", "256", "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
            "-serial", "file:\(serialLog)",
        ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            // SIGKILL: a child started from a Swift concurrency thread inherits its blocked signal mask,
            // SIGTERM included, so QEMU would never see a terminate().
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var log = ""
        while clock.now < deadline {
            log = String(decoding: FileManager.default.contents(atPath: serialLog) ?? Data(), as: UTF8.self).replacingOccurrences(of: "\r", with: "")
            if markers.allSatisfy({ log.contains($0) }) || !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        return log
    }

    @Test func diskBootWithANoCloudSeed() async throws {
        try await TemporaryDirectory.with { dir in
            let before = try await Tool.sha256(Guest.diskQcow2)
            var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "bootvm", namespace: "demo"), spec: VirtualMachineInstanceSpec())
            vmi.spec.hostname = "seeded-guest"
            var root = Volume(name: "rootdisk")
            root.containerDisk = ContainerDiskSource(image: Guest.diskQcow2)
            var seed = Volume(name: "cloudinitdisk")
            seed.cloudInitNoCloud = CloudInitSource(userData: "#!/bin/sh\necho \"seed-user-data ran on $(hostname)\"\n")
            vmi.spec.volumes = [root, seed]
            let preparer = VolumePreparer(configuration: .init(containerDiskCache: dir.sub("cache")))
            let disks = try await preparer.prepare(vmi, stateDirectory: dir.sub("state"))

            let log = try await Self.boot(
                [
                    "-drive", "file=\(disks[0].path),if=virtio,format=\(disks[0].format)",
                    "-drive", "file=\(disks[1].path),if=virtio,format=\(disks[1].format),readonly=on",
                ],
                serialLog: dir.sub("serial.log"),
                until: ["swiftvirt-guest: hostname=seeded-guest", "seed-user-data ran on seeded-guest"])
            #expect(log.contains("swiftvirt-guest: datasource=nocloud device=/dev/vdb"), "\(log.suffix(2000))")
            #expect(log.contains("swiftvirt-guest: instance-id=\(CloudInitSeed.firmwareUUID(of: vmi))"))
            #expect(log.contains("swiftvirt-guest: hostname=seeded-guest"))
            #expect(log.contains("seed-user-data ran on seeded-guest"))
            try preparer.cleanup(stateDirectory: dir.sub("state"))
            #expect(try await Tool.sha256(Guest.diskQcow2) == before)
        }
    }

    @Test
    func kernelBootWithAConfigDrive() async throws {
        try await TemporaryDirectory.with { dir in
            var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "cd-vm", namespace: "demo"), spec: VirtualMachineInstanceSpec())
            var seed = Volume(name: "configdrive")
            seed.cloudInitConfigDrive = CloudInitSource(userData: "#!/bin/sh\necho configdrive-user-data-ok\n")
            vmi.spec.volumes = [seed]
            let disks = try await VolumePreparer().prepare(vmi, stateDirectory: dir.sub("state"))
            let log = try await Self.boot(
                [
                    "-kernel", "\(Guest.directory)/vmlinuz", "-initrd", "\(Guest.directory)/initrd.img", "-append", "console=ttyS0",
                    "-drive", "file=\(disks[0].path),if=virtio,format=raw,readonly=on",
                ],
                serialLog: dir.sub("serial.log"),
                until: ["swiftvirt-guest: hostname=cd-vm", "configdrive-user-data-ok"])
            #expect(log.contains("swiftvirt-guest: datasource=configdrive"), "\(log.suffix(2000))")
            #expect(log.contains("swiftvirt-guest: instance-id=\(CloudInitSeed.firmwareUUID(of: vmi))"))
            #expect(log.contains("swiftvirt-guest: hostname=cd-vm"))
            #expect(log.contains("configdrive-user-data-ok"))
        }
    }
}
