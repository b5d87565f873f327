import Testing
import VirtOS

@testable import VirtDisk

/// Exact qemu-img command lines and the parsing of its answers, with a recording runner.
@Suite struct QemuImgCommandTests {
    @Test func createSparseImage() async throws {
        let runner = RecordingRunner()
        try await QemuImg(runner: runner).create(path: "/s/disks/data.qcow2", format: .qcow2, size: 1_073_741_824)
        #expect(runner.commandLines == ["qemu-img create -q -f qcow2 /s/disks/data.qcow2 1073741824"])
    }

    @Test func createOverlayTakesTheBackingSize() async throws {
        let runner = RecordingRunner()
        try await QemuImg(executable: "/usr/bin/qemu-img", runner: runner).create(
            path: "/s/disks/root.qcow2", format: .qcow2, size: nil, backing: .init(path: "/cache/disk.img", format: .raw))
        #expect(runner.commandLines == ["/usr/bin/qemu-img create -q -f qcow2 -b /cache/disk.img -F raw /s/disks/root.qcow2"])
    }

    @Test func createNeedsASizeOrABackingImage() async throws {
        let runner = RecordingRunner()
        await #expect(throws: QemuImgError.invalidArgument("cannot create /x.raw without a size: give a size or a backing image")) {
            try await QemuImg(runner: runner).create(path: "/x.raw", format: .raw, size: nil)
        }
        await #expect(throws: QemuImgError.self) {
            try await QemuImg(runner: runner).create(path: "/x.raw", format: .raw, size: 0)
        }
        #expect(runner.calls.isEmpty)
    }

    @Test func infoParsesJSON() async throws {
        let json = """
            {
                "children": [],
                "virtual-size": 33554432,
                "filename": "/s/disks/root.qcow2",
                "cluster-size": 65536,
                "format": "qcow2",
                "actual-size": 200704,
                "format-specific": {"type": "qcow2", "data": {"compat": "1.1", "lazy-refcounts": false}},
                "full-backing-filename": "/var/lib/swiftvirt/guest/disk.qcow2",
                "backing-filename": "/var/lib/swiftvirt/guest/disk.qcow2",
                "backing-filename-format": "qcow2",
                "dirty-flag": false
            }
            """
        let runner = RecordingRunner { _ in CommandResult(exitCode: 0, stdout: Array(json.utf8)) }
        let info = try await QemuImg(runner: runner).info(path: "/s/disks/root.qcow2", format: .qcow2, forceShare: true)
        #expect(runner.commandLines == ["qemu-img info --output=json -f qcow2 -U /s/disks/root.qcow2"])
        #expect(
            info
                == ImageInfo(
                    filename: "/s/disks/root.qcow2", format: .qcow2, virtualSize: 33_554_432, actualSize: 200_704,
                    backingFile: "/var/lib/swiftvirt/guest/disk.qcow2", fullBackingFile: "/var/lib/swiftvirt/guest/disk.qcow2",
                    backingFormat: .qcow2, dirty: false))
    }

    @Test func infoOfAMissingFileSaysSo() async throws {
        let runner = RecordingRunner { _ in
            CommandResult(exitCode: 1, stderr: Array("qemu-img: Could not open '/nope.img': Could not open '/nope.img': No such file or directory\n".utf8))
        }
        await #expect(throws: QemuImgError.imageNotFound(path: "/nope.img")) {
            try await QemuImg(runner: runner).info(path: "/nope.img")
        }
    }

    @Test func infoWithBrokenJSONIsReported() async throws {
        let runner = RecordingRunner { _ in CommandResult(exitCode: 0, stdout: Array("{\"format\": \"raw\"}".utf8)) }
        await #expect(throws: QemuImgError.unreadableOutput(path: "/a.img", detail: "no \"virtual-size\"")) {
            try await QemuImg(runner: runner).info(path: "/a.img")
        }
    }

    @Test func lockedImageGetsAHint() async throws {
        let runner = RecordingRunner { _ in
            CommandResult(exitCode: 1, stderr: Array("qemu-img: Could not open '/a.qcow2': Failed to get shared \"write\" lock\nIs another process using the image [/a.qcow2]?".utf8))
        }
        do {
            try await QemuImg(runner: runner).create(path: "/a.qcow2", format: .qcow2, size: 512)
            Issue.record("expected an error")
        } catch let error as QemuImgError {
            #expect(error.description.contains("a running QEMU holds this image"))
            #expect(error.description.hasPrefix("qemu-img create /a.qcow2 failed with exit code 1: qemu-img: Could not open"))
        }
    }

    @Test func convertCommandLine() async throws {
        let runner = RecordingRunner()
        let qemuImg = QemuImg(runner: runner)
        try await qemuImg.convert(source: "/in/disk.vmdk", destination: "/pvc/disk.img", format: .raw)
        try await qemuImg.convert(
            source: "/in/disk.img", destination: "/dev/vg/lv", format: .raw,
            options: .init(sourceFormat: .qcow2, skipTargetCreation: true, preallocation: "falloc", cacheMode: "none", sourceCacheMode: "writeback"))
        #expect(
            runner.commandLines == [
                "qemu-img convert -q -O raw /in/disk.vmdk /pvc/disk.img",
                "qemu-img convert -q -f qcow2 -O raw -n -o preallocation=falloc -t none -T writeback /in/disk.img /dev/vg/lv",
            ])
    }
}
