import Foundation
import Synchronization
import Testing
import VirtOS

/// FileClone on this machine's temporary directory (whatever its filesystem: a reflink where it has one, a
/// copy of the data extents elsewhere): the target holds the source's bytes, grown to the size asked for,
/// holes kept; a source bigger than the size is refused; nothing half-written is left at the target's name.
@Suite struct FileCloneTests {
    let base = NSTemporaryDirectory() + "clone-\(UUID().uuidString.prefix(8))"

    func makeSource(_ path: String, dataAt offsets: [Int64], size: Int64) throws {
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        for offset in offsets {
            try handle.seek(toOffset: UInt64(offset))
            try handle.write(contentsOf: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &+ Int(offset >> 12)) }))
        }
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }

    func allocatedBytes(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_blocks) * 512 : -1
    }

    @Test(arguments: [true, false])
    func aCloneHasTheSourcesBytesGrownToTheSizeWithHolesKept(reflink: Bool) throws {
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let source = base + "/source.img", target = base + "/disk.img"
        try makeSource(source, dataAt: [0, 8 << 20, 30 << 20], size: 32 << 20)
        let result = try FileClone.clone(source: source, target: target, size: 64 << 20, reflink: reflink)
        if !reflink { #expect(result.method == .copy) }
        #expect(result.sourceSize == 32 << 20)
        #expect(result.targetSize == 64 << 20)
        let copied = try #require(FileManager.default.contents(atPath: target))
        let original = try #require(FileManager.default.contents(atPath: source))
        #expect(copied.count == 64 << 20)
        #expect(copied.prefix(original.count) == original)
        #expect(copied.suffix(32 << 20).allSatisfy { $0 == 0 })
        // Three 4 KiB extents of data in 64 MiB: the copy stays sparse (well under 1 MiB allocated).
        #expect(allocatedBytes(target) < 1 << 20)
        #expect(!FileManager.default.fileExists(atPath: target + ".clone"))
    }

    @Test func aCopyReportsHowFarItIsUpToTheWholeSource() throws {
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let source = base + "/source.img", target = base + "/disk.img"
        try makeSource(source, dataAt: [0, 70 << 20], size: 96 << 20)
        let seen = Mutex<[Int64]>([])
        _ = try FileClone.clone(source: source, target: target, size: 96 << 20, reflink: false) { copied, total in
            #expect(total == 96 << 20)
            seen.withLock { $0.append(copied) }
        }
        let values = seen.withLock { $0 }
        #expect(values.count >= 2)
        #expect(values == values.sorted())
        #expect(values.last == 96 << 20)
    }

    @Test func aCloneIsNeverShrunk() throws {
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let source = base + "/source.img", target = base + "/disk.img"
        try makeSource(source, dataAt: [0], size: 16 << 20)
        let result = try FileClone.clone(source: source, target: target, size: 0)
        #expect(result.targetSize == 16 << 20)
        #expect((try FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) == 16 << 20)
    }

    @Test func aSourceBiggerThanTheTargetIsRefusedAndTheTargetLeftAlone() throws {
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let source = base + "/source.img", target = base + "/disk.img"
        try makeSource(source, dataAt: [0], size: 64 << 20)
        FileManager.default.createFile(atPath: target, contents: Data("old".utf8))
        #expect {
            try FileClone.clone(source: source, target: target, size: 32 << 20)
        } throws: { error in
            guard let failure = error as? FileClone.Failure else { return false }
            return failure.tooSmall && failure.message.contains("smaller than the source image (67108864 bytes)")
        }
        #expect(FileManager.default.contents(atPath: target) == Data("old".utf8))
        #expect(!FileManager.default.fileExists(atPath: target + ".clone"))
    }

    @Test func aMissingSourceSaysWhichFile() throws {
        #expect {
            try FileClone.clone(source: base + "/nothing.img", target: base + "/disk.img", size: 0)
        } throws: { error in
            (error as? FileClone.Failure)?.message.contains("cannot open the source image \(base)/nothing.img") == true
        }
    }

    /// Runs a program, throwing with its output when it fails.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(text: "\(arguments.joined(separator: " ")): \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct Failure: Error { var text: String }

    /// On a loop-mounted xfs made with reflink=1 (xfsprogs, from scripts/install-deps.sh; root, as `make test`
    /// runs) the clone shares the source's extents: FICLONE, not a copy. The mount and loop device go afterwards.
    @Test  // as root (mounting a loop device), as `make test` runs on CI
    func onXFSWithReflinkTheCloneIsAReflink() throws {
        try FileManager.default.createDirectory(atPath: base + "/xfs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let image = base + "/xfs.img"
        FileManager.default.createFile(atPath: image, contents: nil)
        try FileHandle(forWritingTo: URL(fileURLWithPath: image)).truncate(atOffset: 512 << 20)
        try run(["mkfs.xfs", "-q", "-m", "reflink=1", image])
        let loop = try run(["losetup", "--find", "--show", image])
        defer { _ = try? run(["losetup", "-d", loop]) }
        try run(["mount", loop, base + "/xfs"])
        defer { _ = try? run(["umount", base + "/xfs"]) }
        let source = base + "/xfs/source.img", target = base + "/xfs/disk.img"
        try makeSource(source, dataAt: [0, 1 << 20, 60 << 20], size: 64 << 20)
        let result = try FileClone.clone(source: source, target: target, size: 96 << 20)
        #expect(result.method == .reflink)
        #expect(result.targetSize == 96 << 20)
        let copied = try #require(FileManager.default.contents(atPath: target))
        let original = try #require(FileManager.default.contents(atPath: source))
        #expect(copied.prefix(original.count) == original)
        #expect(copied.count == 96 << 20)
    }
}
