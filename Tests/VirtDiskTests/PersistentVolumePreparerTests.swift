import Foundation
import Testing
import VirtAPI
import VirtError
import VirtOS

@testable import VirtDisk

/// PersistentVolumeClaim volumes prepared on real files, with the real `losetup` for Block mode.
@Suite struct PersistentVolumePreparerTests {
    static func vmi(claims: [(volume: String, claim: String)]) -> VirtualMachineInstance {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "pvc", namespace: "demo"), spec: VirtualMachineInstanceSpec())
        vmi.spec.volumes = claims.map { pair in
            var volume = Volume(name: pair.volume)
            volume.persistentVolumeClaim = PersistentVolumeClaimVolumeSource(claimName: pair.claim)
            return volume
        }
        return vmi
    }

    static func allocatedBytes(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int64(info.st_blocks) * 512
    }

    @Test func filesystemVolumeGetsASparseDiskImageOfTheClaimsSize() async throws {
        try await TemporaryDirectory.with { dir in
            let volumeDir = dir.sub("volumes/pvc-1")
            let claims = ["root-claim": ClaimedVolume(claimName: "root-claim", volumeName: "pvc-1", path: volumeDir, mode: .filesystem, capacity: 64 << 20)]
            let disks = try await VolumePreparer().prepare(Self.vmi(claims: [("root", "root-claim")]), stateDirectory: dir.sub("state"),
                                                           secrets: [:], claims: claims)
            let image = "\(volumeDir)/disk.img"
            #expect(disks == [PreparedDisk(volumeName: "root", source: .persistentVolumeClaim, path: image, format: .raw, readOnly: false)])
            let size = try #require(try FileManager.default.attributesOfItem(atPath: image)[.size] as? Int)
            #expect(size == 64 << 20)
            #expect(Self.allocatedBytes(image) < 1 << 20, "disk.img is not sparse")

            // A second prepare keeps what the guest wrote.
            let handle = try #require(FileHandle(forWritingAtPath: image))
            try handle.write(contentsOf: Data("guest data".utf8))
            try handle.close()
            _ = try await VolumePreparer().prepare(Self.vmi(claims: [("root", "root-claim")]), stateDirectory: dir.sub("state"), secrets: [:], claims: claims)
            #expect(try String(contentsOfFile: image, encoding: .utf8).hasPrefix("guest data"))

            // An expanded claim grows the image, keeping its data; a smaller one never shrinks it.
            var grown = claims
            grown["root-claim"]?.capacity = 96 << 20
            _ = try await VolumePreparer().prepare(Self.vmi(claims: [("root", "root-claim")]), stateDirectory: dir.sub("state"), secrets: [:], claims: grown)
            #expect(try FileManager.default.attributesOfItem(atPath: image)[.size] as? Int == 96 << 20)
            #expect(try String(contentsOfFile: image, encoding: .utf8).hasPrefix("guest data"))
            _ = try await VolumePreparer().prepare(Self.vmi(claims: [("root", "root-claim")]), stateDirectory: dir.sub("state"), secrets: [:], claims: claims)
            #expect(try FileManager.default.attributesOfItem(atPath: image)[.size] as? Int == 96 << 20)

            try VolumePreparer.removeVolume(at: volumeDir)
            #expect(!FileManager.default.fileExists(atPath: volumeDir))
        }
    }

    @Test func blockVolumeIsALoopDeviceOverItsBackingFileDetachedOnRelease() async throws {
        try await TemporaryDirectory.with { dir in
            let volumeDir = dir.sub("volumes/pvc-2")
            let claims = ["raw": ClaimedVolume(claimName: "raw", volumeName: "pvc-2", path: volumeDir, mode: .block, capacity: 32 << 20)]
            let state = dir.sub("state")
            let preparer = VolumePreparer()
            let disks = try await preparer.prepare(Self.vmi(claims: [("data", "raw")]), stateDirectory: state, secrets: [:], claims: claims)
            let disk = try #require(disks.first)
            #expect(disk.blockDevice)
            #expect(disk.path.hasPrefix("/dev/loop"))
            let loops = LoopDevices()
            #expect(try await loops.devices(backing: "\(volumeDir)/disk.img") == [disk.path])
            var info = stat()
            #expect(stat(disk.path, &info) == 0 && info.st_mode & S_IFMT == S_IFBLK)

            // A retried prepare reuses the device instead of attaching another.
            let again = try await preparer.prepare(Self.vmi(claims: [("data", "raw")]), stateDirectory: state, secrets: [:], claims: claims)
            #expect(again.first?.path == disk.path)
            #expect(try await loops.devices(backing: "\(volumeDir)/disk.img") == [disk.path])

            try await preparer.releasePersistentVolumes(stateDirectory: state)
            #expect(try await loops.devices(backing: "\(volumeDir)/disk.img").isEmpty)
        }
    }

    @Test func blockVolumeOnABlockDeviceIsUsedAsItIs() async throws {
        try await TemporaryDirectory.with { dir in
            let file = dir.sub("backing.raw")
            #expect(FileManager.default.createFile(atPath: file, contents: nil))
            #expect(truncate(file, 16 << 20) == 0)
            let loops = LoopDevices()
            let device = try await loops.attach(file, readOnly: false)
            let claimed = ClaimedVolume(claimName: "dev", volumeName: "pv-dev", path: device, mode: .block, capacity: 16 << 20)
            let disk = try await VolumePreparer().preparePersistentVolume(claimed, name: "dev", field: "spec.volumes[0].persistentVolumeClaim",
                                                                          stateDirectory: dir.sub("state"))
            #expect(disk.path == device)
            #expect(disk.blockDevice)
            try await loops.detach(device)
        }
    }

    @Test func anUnboundClaimNamesTheField() async throws {
        try await TemporaryDirectory.with { dir in
            do {
                _ = try await VolumePreparer().prepare(Self.vmi(claims: [("root", "missing")]), stateDirectory: dir.sub("state"), secrets: [:], claims: [:])
                Issue.record("prepare succeeded without the claim")
            } catch let error as VirtError {
                #expect(error.causes.map(\.field) == ["spec.volumes[0].persistentVolumeClaim.claimName"])
                #expect(error.message.contains("persistentvolumeclaim \"missing\" is not bound on this node"))
            }
        }
    }

    @Test func losetupCommandLines() async throws {
        let runner = RecordingRunner { call in
            CommandResult(exitCode: 0, stdout: Array((call.arguments.first == "--find" ? "/dev/loop9\n" : "/dev/loop9: []: (/v/disk.img)\n").utf8))
        }
        let loops = LoopDevices(runner: runner)
        #expect(try await loops.attach("/v/disk.img", readOnly: true) == "/dev/loop9")
        #expect(try await loops.devices(backing: "/v/disk.img") == ["/dev/loop9"])
        try await loops.detach("/dev/loop9")
        #expect(runner.commandLines == [
            "losetup --find --show --read-only /v/disk.img", "losetup --associated /v/disk.img", "losetup --detach /dev/loop9",
        ])
    }
}
