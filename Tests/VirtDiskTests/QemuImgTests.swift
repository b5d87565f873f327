import Foundation
import Testing
import VirtOS

@testable import VirtDisk

/// qemu-img itself: overlays, sizes, conversion.
@Suite struct QemuImgTests {
    /// The guest's disk.qcow2, or a small qcow2 made here when the guest is not built.
    static func baseImage(in dir: TemporaryDirectory) async throws -> String {
        if Guest.hasDisk { return Guest.diskQcow2 }
        let base = dir.sub("base.qcow2")
        try await QemuImg().create(path: base, format: .qcow2, size: 32 << 20)
        return base
    }

    @Test func overlayOnTheGuestDiskLeavesTheBaseUntouched() async throws {
        try await TemporaryDirectory.with { dir in
            let base = try await Self.baseImage(in: dir)
            let before = try await Tool.sha256(base)
            let baseInfo = try await QemuImg().info(path: base, forceShare: true)
            let overlay = dir.sub("overlay.qcow2")
            try await QemuImg().create(path: overlay, format: .qcow2, size: nil, backing: .init(path: base, format: .qcow2))

            let info = try await QemuImg().info(path: overlay)
            #expect(info.format == .qcow2)
            #expect(info.backingFile == base)
            #expect(info.backingFormat == .qcow2)
            #expect(info.virtualSize == baseInfo.virtualSize)
            #expect((info.actualSize ?? .max) < 1 << 20)

            // Write through the overlay (qemu-io opens it as QEMU would) and read it back.
            try await Tool.run("qemu-io", ["-f", "qcow2", "-c", "write -P 0xab 0 1M", overlay])
            let readBack = try await Tool.run("qemu-io", ["-f", "qcow2", "-c", "read -P 0xab 0 1M", overlay])
            #expect(readBack.contains("read 1048576/1048576 bytes"))
            #expect(try await Tool.sha256(base) == before)
        }
    }

    @Test func sparseRawAndQcow2() async throws {
        try await TemporaryDirectory.with { dir in
            let raw = dir.sub("blank.raw")
            try await QemuImg().create(path: raw, format: .raw, size: 256 << 20)
            #expect(Tool.size(raw) == 256 << 20)
            #expect(Tool.allocatedBytes(raw) < 1 << 20)
            let rawInfo = try await QemuImg().info(path: raw)
            #expect(rawInfo.format == .raw)
            #expect(rawInfo.virtualSize == 256 << 20)

            let converted = dir.sub("blank.qcow2")
            try await QemuImg().convert(source: raw, destination: converted, format: .qcow2, options: .init(sourceFormat: .raw))
            let info = try await QemuImg().info(path: converted)
            #expect(info.format == .qcow2)
            #expect(info.virtualSize == 256 << 20)
            #expect(info.backingFile == nil)
        }
    }

    @Test func realErrorsAreReadable() async throws {
        await #expect(throws: QemuImgError.imageNotFound(path: "/nonexistent/disk.qcow2")) {
            try await QemuImg().info(path: "/nonexistent/disk.qcow2")
        }
        try await TemporaryDirectory.with { dir in
            let file = try dir.write("not-qcow2.img", "hello")
            do {
                _ = try await QemuImg().info(path: file, format: .qcow2)
                Issue.record("expected an error")
            } catch let error as QemuImgError {
                guard case .failed(let operation, let path, _, let stderr) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(operation == "info")
                #expect(path == file)
                #expect(stderr.contains("qcow2"))
            }
        }
    }
}
