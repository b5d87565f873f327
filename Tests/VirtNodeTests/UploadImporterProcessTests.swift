import Foundation
import Testing
import VirtAPI
import VirtError

@testable import VirtNode

/// `swiftvirt-importer --file -` on a pipe, the real binary (built beside the tests): what is written and
/// closed becomes the disk with its marker; a killed import leaves no marker.
@Suite struct UploadImporterProcessTests {
    let directory = NSTemporaryDirectory() + "upload-importer-\(UUID().uuidString.prefix(8))"
    let importer = UploadImporterProcess()

    func write(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            offset += written
        }
    }

    @Test func whatIsPipedInBecomesTheDiskWithItsMarker() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let image = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        let upload = try importer.start(target: directory + "/disk.img", size: 4 << 20, logPath: directory + "/disk.img.upload.log")
        write(image, to: upload.descriptor)
        close(upload.descriptor)
        #expect(await upload.outcome() == .succeeded)
        #expect(FileManager.default.fileExists(atPath: directory + "/disk.img.complete"))
        let disk = try #require(FileManager.default.contents(atPath: directory + "/disk.img"))
        #expect(disk.count == 4 << 20)
        #expect(Array(disk.prefix(image.count)) == image)
    }

    @Test func aKilledImportLeavesNoMarker() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let upload = try importer.start(target: directory + "/disk.img", size: 4 << 20, logPath: directory + "/disk.img.upload.log")
        write(Array(repeating: 9, count: 256 << 10), to: upload.descriptor)
        upload.kill()
        close(upload.descriptor)
        guard case .failed = await upload.outcome() else {
            Issue.record("a killed import succeeded")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/disk.img.complete"))
    }
}
