import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtClient
import VirtDisk
import VirtOS
import VirtReconcile
import VirtTestSupport

@testable import VirtNode

/// A `losetup` that keeps a table of attached devices: `--list --json` prints it, `--detach` drops a row,
/// and every command line is recorded.
final class FakeLosetup: CommandRunner {
    let table: Mutex<[(device: String, file: String)]>
    let calls = Mutex<[String]>([])

    init(_ table: [(device: String, file: String)]) { self.table = Mutex(table) }

    var commandLines: [String] { calls.withLock { $0 } }
    var attached: [String] { table.withLock { $0.map(\.device) } }

    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult {
        calls.withLock { $0.append(([executable] + arguments).joined(separator: " ")) }
        switch arguments.first {
        case "--list":
            let rows = table.withLock { $0 }
            let devices: [JSONValue] = rows.map { ["name": .string($0.device), "back-file": .string($0.file)] }
            let listing: JSONValue = ["loopdevices": .array(devices)]
            return CommandResult(exitCode: 0, stdout: rows.isEmpty ? [] : listing.serializedBytes())
        case "--detach":
            let device = arguments.last ?? ""
            let found = table.withLock { table in
                guard let index = table.firstIndex(where: { $0.device == device }) else { return false }
                table.remove(at: index)
                return true
            }
            return found ? CommandResult(exitCode: 0)
                : CommandResult(exitCode: 1, stderr: Array("losetup: \(device): detach failed: No such device or address".utf8))
        default:
            return CommandResult(exitCode: 0)
        }
    }
}

/// Loop devices of Block volumes: detached on every way out (the guest's release, the volume's reclaim,
/// the agent's start after a run that left some), and never one that is not over the file it was for.
@Suite struct VolumeLoopDeviceTests {
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "loops-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func releaseDetachesADeviceOnlyWhileItsFileIsStillBehindIt() async throws {
        let state = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let disks = VolumePreparer.disksDirectory(stateDirectory: state)
        try FileManager.default.createDirectory(atPath: disks, withIntermediateDirectories: true)
        try "/dev/loop3\n/v/a/disk.img\n".write(toFile: "\(disks)/a.loop", atomically: true, encoding: .utf8)
        // loop4 was detached already and has been given to someone else's file since.
        try "/dev/loop4\n/v/b/disk.img\n".write(toFile: "\(disks)/b.loop", atomically: true, encoding: .utf8)
        let losetup = FakeLosetup([("/dev/loop3", "/v/a/disk.img"), ("/dev/loop4", "/elsewhere/other.img")])

        try await VolumePreparer(runner: losetup).releasePersistentVolumes(stateDirectory: state)
        #expect(losetup.commandLines == ["losetup --list --json --output NAME,BACK-FILE", "losetup --detach /dev/loop3"])
        #expect(losetup.attached == ["/dev/loop4"])
        #expect(VolumePreparer.rememberedLoopDevices(stateDirectory: state).isEmpty)

        // A second release (the pod's removal after its guest stopped) has nothing left to do.
        try await VolumePreparer(runner: losetup).releasePersistentVolumes(stateDirectory: state)
        #expect(losetup.commandLines.count == 2)
    }

    @Test func aPodWhoseVMIIsGoneReleasesItsVolumes() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        world.client.state.withLock { state in
            state.objects = state.objects.filter { $0.key.resource != "virtualmachineinstances" }
        }
        try await world.reconcile()
        let state = world.runtime.stateDirectory(of: world.sandboxID)
        #expect(world.volumes.released.withLock { $0 } == [state])
        #expect(world.runtime.calls.contains("stop \(world.sandboxID)"))
    }

    @Test func reclaimingAVolumeDetachesTheLoopDevicesOverItsFiles() async throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let directories = VolumeDirectories(local: base + "/local", shared: base + "/shared")
        let volume = "\(directories.local)/pvc-block"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: "\(volume)/disk.img", contents: nil))
        #expect(truncate("\(volume)/disk.img", 8 << 20) == 0)
        let loops = LoopDevices()
        let device = try await loops.attach("\(volume)/disk.img", readOnly: false)
        do {
            try await reclaim(volume: volume, device: device, directories: directories, loops: loops)
        } catch {
            _ = try? await loops.detach(device, ifBacking: "\(volume)/disk.img")
            throw error
        }
        // Should an expectation have failed, the device still goes.
        _ = try? await loops.detach(device, ifBacking: "\(volume)/disk.img")
    }

    func reclaim(volume: String, device: String, directories: VolumeDirectories, loops: LoopDevices) async throws {
        let before = try await loops.attachments().filter { $0.isBacked(at: volume) }
        #expect(before.map(\.device) == [device])

        let client = FakeAPIClient()
        client.seed(StorageNames.volumes, [
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": ["name": "pvc-block", "finalizers": [.string(StorageNames.volumeReclaimFinalizer)]],
            "spec": ["csi": ["driver": .string(StorageNames.localProvisioner), "volumeHandle": "pvc-block"], "volumeMode": "Block",
                     "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                         "key": "kubernetes.io/hostname", "operator": "In", "values": ["node-a"]]]]]]]],
        ])
        _ = try await client.delete(StorageNames.volumes.named("pvc-block"), propagationPolicy: nil, gracePeriodSeconds: nil)
        let reclaimer = PersistentVolumeReclaimer(client: client, volumes: ObjectCache(client.objects(StorageNames.volumes)), nodeName: "node-a",
                                                  directories: directories, loops: loops, logger: quietLogger)
        #expect(try await reclaimer.reconcile(ObjectKey(namespace: nil, name: "pvc-block")) == .done)
        #expect(!FileManager.default.fileExists(atPath: volume))
        // losetup shows no device over the volume's file, deleted or not.
        #expect(try await loops.attachments().filter { $0.isBacked(at: volume) }.isEmpty)
        #expect(client.object(StorageNames.volumes.named("pvc-block")) == nil)
    }

    @Test func reclaimDetachesEveryDeviceUnderTheVolumeAndNoOther() async throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let losetup = FakeLosetup([
            ("/dev/loop1", "\(base)/pvc-1/disk.img"), ("/dev/loop2", "\(base)/pvc-10/disk.img"),
            ("/dev/loop3", "\(base)/pvc-1/disk.img (deleted)"),
        ])
        try FileManager.default.createDirectory(atPath: "\(base)/pvc-1", withIntermediateDirectories: true)
        try await VolumePreparer.removeVolume(at: "\(base)/pvc-1", loops: LoopDevices(runner: losetup))
        #expect(!FileManager.default.fileExists(atPath: "\(base)/pvc-1"))
        #expect(losetup.commandLines == [
            "losetup --list --json --output NAME,BACK-FILE", "losetup --detach /dev/loop1", "losetup --detach /dev/loop3",
        ])
        #expect(losetup.attached == ["/dev/loop2"])
    }

    @Test func theAgentsStartDetachesWhatAnEarlierRunLeftAndNothingInUse() async throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let directories = VolumeDirectories(local: base + "/volumes", shared: base + "/shared")
        let pods = base + "/pods"
        // A guest that runs on: its pod's state directory remembers loop2.
        let state = "\(pods)/default-virt-launcher-vm/state"
        try FileManager.default.createDirectory(atPath: VolumePreparer.disksDirectory(stateDirectory: state), withIntermediateDirectories: true)
        try "/dev/loop2\n\(directories.local)/pvc-running/disk.img\n"
            .write(toFile: "\(VolumePreparer.disksDirectory(stateDirectory: state))/root.loop", atomically: true, encoding: .utf8)
        let losetup = FakeLosetup([
            ("/dev/loop1", "\(directories.local)/pvc-gone/disk.img (deleted)"),
            ("/dev/loop2", "\(directories.local)/pvc-running/disk.img"),
            ("/dev/loop3", "\(directories.local)/pvc-stopped/disk.img"),
            ("/dev/loop4", "\(directories.shared)/pvc-shared/disk.img"),
            ("/dev/loop5", "\(directories.shared)/pvc-reclaimed/disk.img (deleted)"),
            ("/dev/loop6", "/srv/someone-elses.img (deleted)"),
        ])
        let sweep = VolumeLoopSweep(loops: LoopDevices(runner: losetup), directories: directories, podsDirectory: pods,
                                    stateDirectory: { "\(pods)/\($0)/state" }, logger: quietLogger)
        #expect(try await sweep.run() == ["/dev/loop1", "/dev/loop3", "/dev/loop5"])
        #expect(losetup.attached == ["/dev/loop2", "/dev/loop4", "/dev/loop6"])
    }
}
