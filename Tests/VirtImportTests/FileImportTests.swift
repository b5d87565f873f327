import Foundation
import Testing
import VirtDisk
import VirtOS

@testable import VirtImport

/// `--file`: a local file or standard input imported exactly as a download is, with the real qemu-img,
/// gzip and xz; standard input through the real `swiftvirt-importer`, fed by a pipe (nothing to seek).
@Suite struct FileImportTests {
    @Test(arguments: ["raw", "raw.gz", "qcow2", "qcow2.xz", "vmdk"])
    func aFileIsSniffedAndConvertedLikeADownload(kind: String) async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            let target = "\(directory)/volume/disk.img"
            try FileManager.default.createDirectory(atPath: "\(directory)/volume", withIntermediateDirectories: true)
            let updates = FileImportUpdates()
            let result = try await DiskImporter().importImage(
                from: FileImportSource(path: "\(directory)/\(name)", origin: "docker://127.0.0.1:5000/guest:v1"),
                into: ImportTarget(path: target, requestedSize: 8 << 20)) { updates.append($0) }
            #expect(result.format.rawValue == kind.split(separator: ".")[0].description)
            #expect(result.compression?.rawValue == (kind.hasSuffix(".gz") ? "gzip" : kind.hasSuffix(".xz") ? "xz" : nil))
            #expect(result.imageSize == images.rawSize)
            // Raw (also compressed) streams into the target, qcow2 and VMDK are converted where they lie; only a
            // compressed qcow2 needs the scratch file, as a download does.
            #expect(result.usedScratch == (kind == "qcow2.xz"))
            let written = TestImages.contents(target)
            #expect(written.count == 8 << 20)
            #expect(Array(written.prefix(Int(images.rawSize))) == TestImages.contents(images.raw))
            let marker = ImportMarker.read(at: target + ".complete")
            #expect(marker?.source == "docker://127.0.0.1:5000/guest:v1")
            #expect(marker?.downloadedBytes == Int64(TestImages.contents("\(directory)/\(name)").count))
            // Progress is against the file's size, ending complete.
            #expect(updates.all.last?.description == "100.00%")
            #expect(updates.all.first?.totalBytes == marker?.downloadedBytes)
            let left = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/volume").sorted()
            #expect(left == ["disk.img", "disk.img.complete"])
        }
    }

    @Test func qemuImgReadsAQcow2FileWhereItLiesButACopyWhenThereIsAChecksum() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            try await images.file("qcow2")
            let image = "\(directory)/disk.qcow2"
            let target = "\(directory)/disk.img"
            let runner = RecordingRunner()
            _ = try await DiskImporter(qemuImg: QemuImg(runner: runner)).importImage(
                from: FileImportSource(path: image), into: ImportTarget(path: target, requestedSize: 8 << 20))
            #expect(runner.commandLines == [
                "qemu-img info --output=json -f qcow2 \(image)",
                "qemu-img convert -q -f qcow2 -O raw -t none -W \(image) \(target)",
                "qemu-img resize -q -f raw \(target) 8388608",
            ])
            #expect(Array(TestImages.contents(target).prefix(Int(images.rawSize))) == TestImages.contents(images.raw))
            #expect(ImportMarker.read(at: target + ".complete")?.downloadedBytes == Int64(TestImages.contents(image).count))

            // A checksum is verified over every byte read, so the file goes through the scratch file as a download does.
            let sha256 = try await ProcessRunner().check("sha256sum", [image]).stdoutText.prefix(64)
            let checked = RecordingRunner()
            _ = try await DiskImporter(qemuImg: QemuImg(runner: checked)).importImage(
                from: FileImportSource(path: image, checksum: try ImportChecksum("sha256:\(sha256)")), into: ImportTarget(path: target))
            let scratch = "\(directory)/.disk.img.import-scratch"
            #expect(checked.commandLines.first == "qemu-img info --output=json -f qcow2 \(scratch)")
            #expect(ImportMarker.read(at: target + ".complete")?.checksum == "sha256:\(sha256)")
        }
    }

    @Test func aChecksumThatDoesNotMatchTheFileFailsAndLeavesNoMarker() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let checksum = try ImportChecksum("sha256:" + String(repeating: "0", count: 64))
            let target = "\(directory)/disk.img"
            await #expect(throws: ImportError.self) {
                _ = try await DiskImporter().importImage(from: FileImportSource(path: images.raw, checksum: checksum), into: ImportTarget(path: target))
            }
            do {
                _ = try await DiskImporter().importImage(from: FileImportSource(path: images.raw, checksum: checksum), into: ImportTarget(path: target))
            } catch let error as ImportError {
                guard case .checksumMismatch(let expected, _) = error else { Issue.record("\(error)"); return }
                #expect(expected == checksum.description)
                #expect(!error.isRetryable)
            }
            #expect(!FileManager.default.fileExists(atPath: target + ".complete"))
        }
    }

    @Test func aMissingFileOrADirectoryIsAnInvalidSourceNamingThePath() async throws {
        try await ScratchDirectory.with { directory in
            for path in ["\(directory)/absent.qcow2", directory] {
                do {
                    _ = try await DiskImporter().importImage(from: FileImportSource(path: path), into: ImportTarget(path: "\(directory)/disk.img"))
                    Issue.record("importing \(path) succeeded")
                } catch let error as ImportError {
                    guard case .invalidSource(let detail) = error else { Issue.record("\(error)"); continue }
                    #expect(detail.contains(path))
                    #expect(!error.isRetryable)
                }
            }
        }
    }

    @Test(arguments: ["qcow2.gz", "qcow2", "raw.xz"])
    func standardInputIsStreamedThroughTheImporterProgram(kind: String) async throws {
        let importer = try #require(Self.importerProgram(), "swiftvirt-importer is not built beside the tests (swift build --build-tests)")
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            let target = "\(directory)/disk.img"
            // cat makes standard input a pipe: the importer cannot seek it, qcow2 goes through the scratch file.
            let result = try await ProcessRunner().run(
                "sh", ["-c", "cat \(directory)/\(name) | \(importer) --file - --target \(target) --size \(8 << 20)"])
            #expect(result.exitCode == 0, "\(result.stderrText)")
            #expect(result.stdoutText.contains(#""imageSize":\#(images.rawSize)"#), "\(result.stdoutText)")
            let written = TestImages.contents(target)
            #expect(written.count == 8 << 20)
            #expect(Array(written.prefix(Int(images.rawSize))) == TestImages.contents(images.raw))
            #expect(ImportMarker.read(at: target + ".complete")?.source == "stdin")
        }
    }

    @Test func theProgramWantsExactlyOneSource() async throws {
        let importer = try #require(Self.importerProgram(), "swiftvirt-importer is not built beside the tests (swift build --build-tests)")
        let both = try await ProcessRunner().run(importer, ["--file", "-", "--url", "http://127.0.0.1:9/d", "--target", "/tmp/x"])
        #expect(both.exitCode != 0)
        #expect(both.stderrText.contains("give one source, not --url and --file"), "\(both.stderrText)")
        let none = try await ProcessRunner().run(importer, ["--target", "/tmp/x"])
        #expect(none.stderrText.contains("give one source: --url, --file or --blank"), "\(none.stderrText)")
    }

    /// `swiftvirt-importer` in the build directory of this test program.
    static func importerProgram() -> String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("swiftvirt-importer").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }
}

/// Progress updates as they came.
final class FileImportUpdates: @unchecked Sendable {
    private let lock = NSLock()
    private var updates: [ImportProgress] = []

    func append(_ update: ImportProgress) { lock.withLock { updates.append(update) } }
    var all: [ImportProgress] { lock.withLock { updates } }
}
