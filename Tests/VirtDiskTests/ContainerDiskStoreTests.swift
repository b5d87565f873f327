import Crypto
import Foundation
import Testing
import VirtOS

@testable import VirtDisk

/// containerDisk images: local files and OCI image layouts built here with real tar, gzip and sha256 digests.
@Suite struct ContainerDiskStoreTests {
    /// A 16 MiB qcow2 whose first MiB holds 0x5a, so that copies can be recognised.
    static func makeDisk(_ path: String) async throws {
        try await QemuImg().create(path: path, format: .qcow2, size: 16 << 20)
        try await Tool.run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 1M", path])
    }

    @Test func ociLayoutWithTagAndWhiteouts() async throws {
        try await TemporaryDirectory.with { dir in
            let disk = dir.sub("disk.qcow2")
            try await Self.makeDisk(disk)
            let old = dir.sub("old.img")
            try await QemuImg().create(path: old, format: .raw, size: 1 << 20)
            let layout = try OCILayoutBuilder(directory: dir.sub("layout"), scratch: dir.sub("scratch"))
            // Lower layer: an old disk; upper layer (gzip): removes it and adds the new one.
            let lower = try await layout.addLayer([("disk/old.img", old), ("etc/motd", old)], gzip: false)
            let upper = try await layout.addLayer([("disk/.wh.old.img", nil), ("disk/disk.qcow2", disk)], gzip: true)
            let manifest = try await layout.addManifest(layers: [lower, upper])
            try layout.writeIndex([(manifest, "v1", OCILayoutBuilder.manifestType)])

            let runner = RecordingRunner(forwardingTo: ProcessRunner())
            let store = ContainerDiskStore(cacheDirectory: dir.sub("cache"), runner: runner)
            let resolved = try await store.resolve(image: "oci:\(layout.directory):v1")
            let hex = manifest.digest.dropFirst("sha256:".count)
            #expect(resolved.path == dir.sub("cache/sha256-\(hex)/disk.qcow2"))
            #expect(resolved.format == .qcow2)
            #expect(resolved.virtualSize == 16 << 20)
            #expect(try await Tool.sha256(resolved.path) == Tool.sha256(disk))
            #expect(runner.calls.contains { $0.executable == "tar" && $0.arguments.first == "-x" })
            // Read-only in the cache, owned by root rather than the image's uid 107, no scratch left.
            let attributes = try FileManager.default.attributesOfItem(atPath: resolved.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o444)
            #expect((attributes[.ownerAccountID] as? Int) == Int(getuid()))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.sub("cache")) == ["sha256-\(hex)"])

            // Once extracted, the same image (here without the tag: the layout has one) comes from the cache.
            let before = runner.calls.count
            let again = try await store.resolve(image: layout.directory)
            #expect(again == resolved)
            #expect(!runner.calls[before...].contains { $0.executable == "tar" })
        }
    }

    @Test func multiPlatformIndexPicksThisNode() async throws {
        try await TemporaryDirectory.with { dir in
            let disk = dir.sub("disk.qcow2")
            try await Self.makeDisk(disk)
            let other = dir.sub("other.raw")
            try await QemuImg().create(path: other, format: .raw, size: 2 << 20)
            let layout = try OCILayoutBuilder(directory: dir.sub("layout"), scratch: dir.sub("scratch"))
            let arm = try await layout.addManifest(
                layers: [try await layout.addLayer([("disk/arm.img", other)], gzip: true)], architecture: "arm64")
            let amd = try await layout.addManifest(layers: [try await layout.addLayer([("disk/disk.qcow2", disk)], gzip: true)])
            let index = try await layout.addIndex([(arm, "arm64"), (amd, "amd64")])
            try layout.writeIndex([(index, "latest", OCILayoutBuilder.indexType)])

            let amdDisk = try await ContainerDiskStore(cacheDirectory: dir.sub("cache"), architecture: "amd64")
                .resolve(image: "\(layout.directory):latest")
            #expect(amdDisk.format == .qcow2)
            #expect(amdDisk.path.hasSuffix("/disk.qcow2"))
            let armDisk = try await ContainerDiskStore(cacheDirectory: dir.sub("cache"), architecture: "arm64")
                .resolve(image: "\(layout.directory):latest")
            #expect(armDisk.format == .raw)
            #expect(armDisk.path.hasSuffix("/arm.img"))
            await #expect(throws: ContainerDiskError.self) {
                try await ContainerDiskStore(cacheDirectory: dir.sub("cache"), architecture: "s390x").resolve(image: "\(layout.directory):latest")
            }
        }
    }

    @Test func customPathAndBadImages() async throws {
        try await TemporaryDirectory.with { dir in
            let disk = dir.sub("disk.qcow2")
            try await Self.makeDisk(disk)
            let layout = try OCILayoutBuilder(directory: dir.sub("layout"), scratch: dir.sub("scratch"))
            let layer = try await layout.addLayer([("disk/a.qcow2", disk), ("disk/b.qcow2", disk), ("images/root.qcow2", disk)], gzip: true)
            let manifest = try await layout.addManifest(layers: [layer])
            try layout.writeIndex([(manifest, "v2", OCILayoutBuilder.manifestType)])
            let store = ContainerDiskStore(cacheDirectory: dir.sub("cache"))

            let custom = try await store.resolve(image: "\(layout.directory):v2", path: "/images/root.qcow2")
            #expect(custom.path.hasSuffix("-images_root.qcow2/root.qcow2"))
            await #expect(throws: ContainerDiskError.noDisk(
                image: "\(layout.directory):v2",
                detail: "more than one file in /disk (a.qcow2, b.qcow2): only one disk is allowed, or set containerDisk.path")) {
                try await store.resolve(image: "\(layout.directory):v2")
            }
            await #expect(throws: ContainerDiskError.noSuchImage(layout: layout.directory, reference: "v3", available: ["v2"])) {
                try await store.resolve(image: "oci:\(layout.directory):v3")
            }
            await #expect(throws: ContainerDiskError.pullFailed(image: "quay.io/Containerdisks/fedora:41", error: .invalidReference(
                reference: "quay.io/Containerdisks/fedora:41",
                detail: "repository component \"Containerdisks\" must be lowercase letters and digits, separated by . _ __ or -"))) {
                try await store.resolve(image: "quay.io/Containerdisks/fedora:41")
            }
            await #expect(throws: ContainerDiskError.notFound(image: "/no/such/disk.qcow2")) {
                try await store.resolve(image: "/no/such/disk.qcow2")
            }

            // A blob whose bytes do not match its digest is refused.
            let blob = layer.blob.path
            try FileManager.default.removeItem(atPath: blob)
            let garbage = try dir.write("garbage", String(repeating: "x", count: Int(layer.blob.size)))
            try FileManager.default.copyItem(atPath: garbage, toPath: blob)
            do {
                _ = try await ContainerDiskStore(cacheDirectory: dir.sub("cache2")).resolve(image: "\(layout.directory):v2", path: "images/root.qcow2")
                Issue.record("expected a digest mismatch")
            } catch let error as ContainerDiskError {
                guard case .digestMismatch(let path, let expected, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(path == blob)
                #expect(expected == layer.blob.digest)
            }
        }
    }

    @Test func localFilesAreCheckedLikeKubeVirtDoes() async throws {
        try await TemporaryDirectory.with { dir in
            let store = ContainerDiskStore(cacheDirectory: dir.sub("cache"))
            let disk = dir.sub("disk.qcow2")
            try await Self.makeDisk(disk)
            #expect(try await store.resolve(image: disk) == ContainerDiskImage(path: disk, format: .qcow2, virtualSize: 16 << 20))

            let overlay = dir.sub("overlay.qcow2")
            try await QemuImg().create(path: overlay, format: .qcow2, size: nil, backing: .init(path: disk, format: .qcow2))
            await #expect(throws: ContainerDiskError.self) { try await store.resolve(image: overlay) }

            let text = try dir.write("notes.txt", "not a disk\n")
            await #expect(throws: ContainerDiskError.self) { try await store.resolve(image: text) }

            // An unpacked image file system with disk/ works too.
            try FileManager.default.createDirectory(atPath: dir.sub("rootfs/disk"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: disk, toPath: dir.sub("rootfs/disk/root.qcow2"))
            #expect(try await store.resolve(image: dir.sub("rootfs")).path == dir.sub("rootfs/disk/root.qcow2"))
        }
    }

    @Test func findDiskFollowsWhiteouts() throws {
        let layers = [
            ["./", "./disk/", "./disk/a.img"],
            ["disk/.wh..wh..opq", "disk/b.img"],
        ]
        #expect(try ContainerDiskStore.findDisk(in: layers, member: nil, image: "x") == (1, "disk/b.img"))
        #expect(throws: ContainerDiskError.self) { try ContainerDiskStore.findDisk(in: layers + [[".wh.disk"]], member: nil, image: "x") }
        #expect(try ContainerDiskStore.findDisk(in: [["/disk/", "/disk/x.qcow2"]], member: nil, image: "x") == (0, "/disk/x.qcow2"))
        #expect(try ContainerDiskStore.findDisk(in: [["a/b/c.img"], ["a/b/d.img"]], member: "a/b/c.img", image: "x") == (0, "a/b/c.img"))
    }

    /// Blobs are hashed in 1 MiB reads: sizes around and across that boundary hash as `sha256sum` and
    /// `sha512sum` hash them.
    @Test func streamedDigestsMatchTheCoreutils() async throws {
        try await TemporaryDirectory.with { dir in
            for size in [0, 1, (1 << 20) - 1, 1 << 20, (5 << 19) + 3] {
                let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
                let file = try dir.write("blob-\(size)", bytes)
                #expect(try await ContainerDiskStore.hexDigest(SHA256.self, of: file) == Tool.sha256(file))
                let sha512 = String(try await Tool.run("sha512sum", ["-b", file]).prefix(128))
                #expect(try await ContainerDiskStore.hexDigest(SHA512.self, of: file) == sha512)
            }
            await #expect(throws: POSIXFailure.self) { try await ContainerDiskStore.hexDigest(SHA256.self, of: dir.sub("missing")) }
        }
    }
}
