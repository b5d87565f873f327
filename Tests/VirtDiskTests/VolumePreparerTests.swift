import Foundation
import Testing
import VirtAPI
import VirtError
import VirtOS

@testable import VirtDisk

/// Each volume kind prepared with the real tools, and the errors that name the field.
@Suite struct VolumePreparerTests {
    static func vmi(_ volumes: [Volume], name: String = "prep") -> VirtualMachineInstance {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: name, namespace: "demo"), spec: VirtualMachineInstanceSpec())
        vmi.spec.volumes = volumes
        return vmi
    }

    static func volume(_ name: String, _ configure: (inout Volume) throws -> Void) rethrows -> Volume {
        var volume = Volume(name: name)
        try configure(&volume)
        return volume
    }

    static func preparer(_ dir: TemporaryDirectory) -> VolumePreparer {
        VolumePreparer(configuration: .init(containerDiskCache: dir.sub("cache")))
    }

    /// The VirtError `prepare` throws for `volumes`, checked to name `field`.
    static func failure(_ volumes: [Volume], in dir: TemporaryDirectory) async -> VirtError? {
        do {
            _ = try await preparer(dir).prepare(vmi(volumes), stateDirectory: dir.sub("state"))
            return nil
        } catch {
            return error as? VirtError
        }
    }

    @Test func emptyDiskIsASparseQcow2OfTheCapacity() async throws {
        try await TemporaryDirectory.with { dir in
            let volumes = [try Self.volume("scratch") { $0.emptyDisk = EmptyDiskSource(capacity: try Quantity("64Mi")) }]
            let disks = try await Self.preparer(dir).prepare(Self.vmi(volumes), stateDirectory: dir.sub("state"))
            #expect(disks == [PreparedDisk(volumeName: "scratch", source: .emptyDisk, path: dir.sub("state/disks/scratch.qcow2"), format: .qcow2, readOnly: false)])
            let info = try await QemuImg().info(path: disks[0].path)
            #expect(info.format == .qcow2)
            #expect(info.virtualSize == 64 << 20)
            #expect(Tool.size(disks[0].path) < 1 << 20)

            // Preparing again (a retried start) keeps what the guest wrote; cleanup removes it.
            try await Tool.run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x11 0 64k", disks[0].path])
            _ = try await Self.preparer(dir).prepare(Self.vmi(volumes), stateDirectory: dir.sub("state"))
            #expect(try await Tool.run("qemu-io", ["-f", "qcow2", "-c", "read -P 0x11 0 64k", disks[0].path]).contains("read 65536/65536"))
            try Self.preparer(dir).cleanup(stateDirectory: dir.sub("state"))
            #expect(!FileManager.default.fileExists(atPath: dir.sub("state/disks")))
            try Self.preparer(dir).cleanup(stateDirectory: dir.sub("state"))  // twice is fine
        }
    }

    @Test func hostDiskOrCreateMakesASparseRawFile() async throws {
        try await TemporaryDirectory.with { dir in
            let path = dir.sub("host/images/data.img")
            let volumes = [
                Self.volume("data") {
                    $0.hostDisk = HostDisk(path: path, type: "DiskOrCreate")
                    $0.hostDisk?.capacity = try? Quantity("100Mi")
                }
            ]
            let disks = try await Self.preparer(dir).prepare(Self.vmi(volumes), stateDirectory: dir.sub("state"))
            #expect(disks == [PreparedDisk(volumeName: "data", source: .hostDisk, path: path, format: .raw, readOnly: false)])
            #expect(Tool.size(path) == 100 << 20)
            #expect(Tool.allocatedBytes(path) < 1 << 20)

            // An existing file is used as it is, and cleanup never removes a hostDisk.
            try await Tool.run("qemu-io", ["-f", "raw", "-c", "write -P 0x22 0 4k", path])
            _ = try await Self.preparer(dir).prepare(Self.vmi(volumes), stateDirectory: dir.sub("state"))
            try Self.preparer(dir).cleanup(stateDirectory: dir.sub("state"))
            #expect(try await Tool.run("qemu-io", ["-f", "raw", "-c", "read -P 0x22 0 4k", path]).contains("read 4096/4096"))

            let existing = [Self.volume("data") { $0.hostDisk = HostDisk(path: path, type: "Disk") }]
            #expect(try await Self.preparer(dir).prepare(Self.vmi(existing), stateDirectory: dir.sub("state")).first?.path == path)
        }
    }

    @Test func hostDiskErrorsNameTheField() async throws {
        try await TemporaryDirectory.with { dir in
            let missing = dir.sub("nope/disk.img")
            let error = try #require(await Self.failure(
                [
                    Self.volume("scratch") { $0.emptyDisk = EmptyDiskSource(capacity: Quantity(bytes: 1 << 20)) },
                    Self.volume("data") { $0.hostDisk = HostDisk(path: missing, type: "Disk") },
                ], in: dir))
            #expect(error.code == .notFound)
            #expect(error.message.hasPrefix("spec.volumes[1].hostDisk.path: Not found: \(missing) does not exist on this node"))
            #expect(error.causes.map(\.field) == ["spec.volumes[1].hostDisk.path"])
            #expect(!FileManager.default.fileExists(atPath: missing))

            let noCapacity = try #require(await Self.failure([Self.volume("d") { $0.hostDisk = HostDisk(path: missing, type: "DiskOrCreate") }], in: dir))
            #expect(noCapacity.causes.map(\.field) == ["spec.volumes[0].hostDisk.capacity"])
            let noPath = try #require(await Self.failure([Self.volume("d") { $0.hostDisk = HostDisk(type: "Disk") }], in: dir))
            #expect(noPath.message.hasPrefix("spec.volumes[0].hostDisk.path: Required value"))
            let badType = try #require(await Self.failure([Self.volume("d") { $0.hostDisk = HostDisk(path: missing, type: "Block") }], in: dir))
            #expect(badType.causes.map(\.field) == ["spec.volumes[0].hostDisk.type"])
        }
    }

    @Test func containerDiskFromALocalImageGetsAThrowAwayOverlay() async throws {
        try await TemporaryDirectory.with { dir in
            let base = try await QemuImgTests.baseImage(in: dir)
            let before = try await Tool.sha256(base)
            let volumes = [Self.volume("root") { $0.containerDisk = ContainerDiskSource(image: base) }]
            let disks = try await Self.preparer(dir).prepare(Self.vmi(volumes), stateDirectory: dir.sub("state"))
            let overlay = dir.sub("state/disks/root.qcow2")
            #expect(
                disks == [
                    PreparedDisk(
                        volumeName: "root", source: .containerDisk, path: overlay, format: .qcow2, readOnly: false,
                        backing: .init(path: base, format: .qcow2))
                ])
            let info = try await QemuImg().info(path: overlay)
            #expect(info.backingFile == base)
            #expect(info.backingFormat == .qcow2)
            try await Tool.run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x33 0 2M", overlay])
            #expect(try await Tool.sha256(base) == before)

            try Self.preparer(dir).cleanup(stateDirectory: dir.sub("state"))
            #expect(!FileManager.default.fileExists(atPath: overlay))
            #expect(try await Tool.sha256(base) == before)
        }
    }

    @Test func containerDiskFromAnOCILayout() async throws {
        try await TemporaryDirectory.with { dir in
            let disk = dir.sub("disk.qcow2")
            try await ContainerDiskStoreTests.makeDisk(disk)
            let layout = try OCILayoutBuilder(directory: dir.sub("images/tiny"), scratch: dir.sub("scratch"))
            let manifest = try await layout.addManifest(layers: [try await layout.addLayer([("disk/disk.qcow2", disk)], gzip: true)])
            try layout.writeIndex([(manifest, "v1", OCILayoutBuilder.manifestType)])

            let volumes = [Self.volume("root") { $0.containerDisk = ContainerDiskSource(image: "oci:\(layout.directory):v1") }]
            let prepared = try await Self.preparer(dir).prepare(Self.vmi(volumes), stateDirectory: dir.sub("state"))
            let cached = dir.sub("cache/sha256-\(manifest.digest.dropFirst(7))/disk.qcow2")
            #expect(prepared.first?.backing == QemuImg.Backing(path: cached, format: .qcow2))
            #expect(try await QemuImg().info(path: dir.sub("state/disks/root.qcow2")).backingFile == cached)
            // The guest sees the image's data through the overlay.
            #expect(try await Tool.run("qemu-io", ["-f", "qcow2", "-c", "read -P 0x5a 0 1M", dir.sub("state/disks/root.qcow2")]).contains("read 1048576/1048576"))
        }
    }

    @Test func containerDiskErrorsNameTheField() async throws {
        try await TemporaryDirectory.with { dir in
            let registry = try #require(await Self.failure(
                [Self.volume("root") { $0.containerDisk = ContainerDiskSource(image: "quay.io/Containerdisks/fedora:41") }], in: dir))
            #expect(registry.causes.map(\.field) == ["spec.volumes[0].containerDisk.image"])
            #expect(registry.message.hasPrefix("failed to pull image \"quay.io/Containerdisks/fedora:41\": quay.io/Containerdisks/fedora:41 is not an image reference"))
            #expect(registry.cause is ContainerDiskError)

            let missing = try #require(await Self.failure(
                [Self.volume("root") { $0.containerDisk = ContainerDiskSource(image: "/var/empty/none.qcow2") }], in: dir))
            #expect(missing.code == .notFound)
            #expect(missing.message.hasPrefix("spec.volumes[0].containerDisk.image: Not found:"))
        }
    }

    @Test func cloudInitAndUnsupportedVolumes() async throws {
        try await TemporaryDirectory.with { dir in
            let volumes = [
                Self.volume("cloudinitdisk") { $0.cloudInitNoCloud = CloudInitSource(userData: "#cloud-config\n") },
                Self.volume("configdrive") { $0.cloudInitConfigDrive = CloudInitSource(userData: "#cloud-config\n") },
            ]
            let disks = try await Self.preparer(dir).prepare(Self.vmi(volumes), stateDirectory: dir.sub("state"))
            #expect(
                disks == [
                    PreparedDisk(volumeName: "cloudinitdisk", source: .cloudInitNoCloud, path: dir.sub("state/disks/cloudinitdisk.iso"), format: .raw, readOnly: true),
                    PreparedDisk(volumeName: "configdrive", source: .cloudInitConfigDrive, path: dir.sub("state/disks/configdrive.iso"), format: .raw, readOnly: true),
                ])
            #expect(try await Tool.run("isoinfo", ["-d", "-i", disks[0].path]).contains("Volume id: cidata"))
            #expect(try await Tool.run("isoinfo", ["-d", "-i", disks[1].path]).contains("Volume id: config-2"))

            let ephemeral = try #require(await Self.failure([Self.volume("e") {
                $0.ephemeral = EphemeralVolumeSource(persistentVolumeClaim: CorePersistentVolumeClaimVolumeSource(claimName: "pvc"))
            }], in: dir))
            #expect(ephemeral.causes.map(\.field) == ["spec.volumes[0].ephemeral"])
            #expect(ephemeral.message.contains("are not supported yet"))

            let pvc = try #require(await Self.failure([Self.volume("p") {
                $0.persistentVolumeClaim = PersistentVolumeClaimVolumeSource(claimName: "pvc")
            }], in: dir))
            #expect(pvc.causes.map(\.field) == ["spec.volumes[0].persistentVolumeClaim"])

            let badName = try #require(await Self.failure([Self.volume("../x") { $0.emptyDisk = EmptyDiskSource(capacity: Quantity(bytes: 1 << 20)) }], in: dir))
            #expect(badName.causes.map(\.field) == ["spec.volumes[0].name"])
        }
    }
}
