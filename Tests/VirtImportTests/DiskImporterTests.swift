import Foundation
import Testing
import VirtDisk
import VirtOS

@testable import VirtImport

/// The importer against a real HTTP server on loopback and the real qemu-img, gzip and xz.
@Suite struct DiskImporterTests {
    static let formats: [(kind: String, format: DetectedFormat, compression: DetectedFormat?)] = [
        ("raw", .raw, nil), ("raw.gz", .raw, .gzip), ("raw.xz", .raw, .xz), ("qcow2", .qcow2, nil),
        ("qcow2.gz", .qcow2, .gzip), ("qcow2.xz", .qcow2, .xz), ("vmdk", .vmdk, nil), ("vdi", .vdi, nil),
        ("vhdx", .vhdx, nil), ("vhd", .vhd, nil),
    ]

    @Test(arguments: formats.map(\.kind))
    func importsEachFormatIntoARawTarget(kind: String) async throws {
        let expected = try #require(Self.formats.first { $0.kind == kind })
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            try await ImageServer.with(directory: directory) { server in
                let target = "\(directory)/volume/disk.img"
                try FileManager.default.createDirectory(atPath: "\(directory)/volume", withIntermediateDirectories: true)
                let result = try await DiskImporter().importImage(
                    from: HTTPImportSource(url: server.url("f/\(name)")), into: ImportTarget(path: target, requestedSize: 8 << 20))
                #expect(result.format == expected.format)
                #expect(result.compression == expected.compression)
                #expect(result.usedScratch == (expected.format != .raw))
                #expect(result.imageSize == images.rawSize)
                #expect(result.targetSize == 8 << 20)
                let written = TestImages.contents(target)
                #expect(written.count == 8 << 20)
                #expect(Array(written.prefix(Int(images.rawSize))) == TestImages.contents(images.raw))
                #expect(written.suffix(4 << 20).allSatisfy { $0 == 0 })
                #expect(ImportMarker.read(at: target + ".complete")?.format == expected.format.rawValue)
                // Nothing is left in the volume but the disk and its marker.
                let left = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/volume").sorted()
                #expect(left == ["disk.img", "disk.img.complete"])
            }
        }
    }

    @Test func qemuImgChecksConvertsAndGrowsWithTheFormatNamed() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            try await images.file("qcow2")
            try await ImageServer.with(directory: directory) { server in
                let runner = RecordingRunner()
                let target = "\(directory)/disk.img"
                _ = try await DiskImporter(qemuImg: QemuImg(runner: runner)).importImage(
                    from: HTTPImportSource(url: server.url("f/disk.qcow2")), into: ImportTarget(path: target, requestedSize: 8 << 20))
                let scratch = "\(directory)/.disk.img.import-scratch"
                #expect(
                    runner.commandLines == [
                        "qemu-img info --output=json -f qcow2 \(scratch)",
                        "qemu-img convert -q -f qcow2 -O raw -t none -W \(scratch) \(target)",
                        "qemu-img resize -q -f raw \(target) 8388608",
                    ])
            }
        }
    }

    @Test func aTargetThatRefusesDirectIOIsWrittenThroughThePageCache() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            try await images.file("qcow2")
            try await ImageServer.with(directory: directory) { server in
                let runner = RecordingRunner(forwardingTo: DirectIORefusingRunner())
                let target = "\(directory)/disk.img"
                let result = try await DiskImporter(qemuImg: QemuImg(runner: runner)).importImage(
                    from: HTTPImportSource(url: server.url("f/disk.qcow2")), into: ImportTarget(path: target))
                let scratch = "\(directory)/.disk.img.import-scratch"
                #expect(
                    runner.commandLines == [
                        "qemu-img info --output=json -f qcow2 \(scratch)",
                        "qemu-img convert -q -f qcow2 -O raw -t none -W \(scratch) \(target)",
                        "qemu-img convert -q -f qcow2 -O raw -W \(scratch) \(target)",
                    ])
                #expect(result.imageSize == images.rawSize)
                #expect(TestImages.contents(target) == TestImages.contents(images.raw))
                #expect(ImportMarker.read(at: target + ".complete")?.format == "qcow2")
            }
        }
    }

    @Test(arguments: ["raw", "qcow2", "raw.xz"])
    func importsIntoABlockDevice(kind: String) async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            // The device's old contents are not zeros: the import must overwrite them, holes included.
            let backing = "\(directory)/device.img"
            _ = FileManager.default.createFile(atPath: backing, contents: Data(repeating: 0xFF, count: 8 << 20))
            let device = try await ProcessRunner().check("losetup", ["--find", "--show", backing]).stdoutText
                .trimmingCharacters(in: .whitespacesAndNewlines)
            defer { TestImages.detachLoop(device) }
            try await ImageServer.with(directory: directory) { server in
                let marker = "\(directory)/device.complete"
                let result = try await DiskImporter().importImage(
                    from: HTTPImportSource(url: server.url("f/\(name)")),
                    into: ImportTarget(path: device, scratchDirectory: directory, markerPath: marker))
                #expect(result.targetSize == 8 << 20)
                #expect(result.imageSize == images.rawSize)
                try await TestImages.run("cmp", ["-n", String(images.rawSize), device, images.raw])
                #expect(ImportMarker.read(at: marker) != nil)
                await #expect(throws: ImportError.invalidTarget("a block device target needs a marker path outside the device (\(device))")) {
                    try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/\(name)")), into: ImportTarget(path: device))
                }
            }
        }
    }

    @Test func theTestGuestImportsAsTheSameDisk() async throws {
        let guest = "/var/lib/swiftvirt/guest/disk.qcow2"
        try #require(FileManager.default.fileExists(atPath: guest), "the test guest is built by guest/build.sh (make test runs it)")
        try await ScratchDirectory.with { directory in
            try FileManager.default.copyItem(atPath: guest, toPath: "\(directory)/guest.qcow2")
            try await ImageServer.with(directory: directory) { server in
                let target = "\(directory)/disk.img"
                let result = try await DiskImporter().importImage(
                    from: HTTPImportSource(url: server.url("f/guest.qcow2")), into: ImportTarget(path: target))
                #expect(result.format == .qcow2)
                try await TestImages.run("qemu-img", ["compare", "-q", "-f", "qcow2", "-F", "raw", "\(directory)/guest.qcow2", target])
            }
        }
    }

    @Test func progressRisesToOneHundredPercent() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory, megabytes: 8)
            try await ImageServer.with(directory: directory) { server in
                let updates = Collector<ImportProgress>()
                _ = try await DiskImporter().importImage(
                    from: HTTPImportSource(url: server.url("f/disk.raw")), into: ImportTarget(path: "\(directory)/disk.img")
                ) { updates.append($0) }
                let points = updates.values.compactMap(\.basisPoints)
                #expect(points.count == updates.values.count)
                #expect(points.count > 2)
                #expect(points == points.sorted())
                #expect(updates.values.first?.description == "0.00%")
                #expect(updates.values.last?.description == "100.00%")
                #expect(updates.values.last?.isComplete == true)
                #expect(updates.values.dropLast().allSatisfy { !$0.isComplete && $0.totalBytes == images.rawSize })
            }
        }
    }

    @Test func anUnknownLengthReportsNAUntilComplete() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            try await ImageServer.with(directory: directory) { server in
                let updates = Collector<ImportProgress>()
                let result = try await DiskImporter().importImage(
                    from: HTTPImportSource(url: server.url("nolength/disk.raw")), into: ImportTarget(path: "\(directory)/disk.img")
                ) { updates.append($0) }
                #expect(result.imageSize == images.rawSize)
                #expect(updates.values.first?.description == "N/A")
                #expect(updates.values.last?.description == "100.00%")
            }
        }
    }

    @Test(arguments: ["raw", "qcow2.gz"])
    func aMatchingChecksumPasses(kind: String) async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            let sha256 = String(try await ProcessRunner().check("sha256sum", ["\(directory)/\(name)"]).stdoutText.prefix(64))
            let md5 = String(try await ProcessRunner().check("md5sum", ["\(directory)/\(name)"]).stdoutText.prefix(32))
            try await ImageServer.with(directory: directory) { server in
                for checksum in ["sha256:\(sha256)", "md5:\(md5.uppercased())"] {
                    let result = try await DiskImporter().importImage(
                        from: HTTPImportSource(url: server.url("f/\(name)"), checksum: try ImportChecksum(checksum)),
                        into: ImportTarget(path: "\(directory)/disk.img"))
                    #expect(result.marker.checksum == checksum.lowercased())
                }
            }
        }
    }

    @Test(arguments: ["raw", "qcow2", "raw.xz"])
    func aWrongChecksumFailsWithBothDigests(kind: String) async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            let sha256 = String(try await ProcessRunner().check("sha256sum", ["\(directory)/\(name)"]).stdoutText.prefix(64))
            let wrong = "sha256:" + String(repeating: "ab", count: 32)
            try await ImageServer.with(directory: directory) { server in
                let target = "\(directory)/disk.img"
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(
                        from: HTTPImportSource(url: server.url("f/\(name)"), checksum: try ImportChecksum(wrong)),
                        into: ImportTarget(path: target))
                }
                #expect(error == .checksumMismatch(expected: wrong, actual: "sha256:\(sha256)"))
                #expect(error?.isRetryable == false)
                #expect(ImportMarker.read(at: target + ".complete") == nil)
            }
        }
    }

    @Test func httpErrorsCarryTheStatusLine() async throws {
        try await ScratchDirectory.with { directory in
            _ = try TestImages.make(in: directory)
            try await ImageServer.with(directory: directory) { server in
                for (path, code, retryable) in [("f/missing.qcow2", 404, false), ("status/503", 503, true), ("status/403", 403, false)] {
                    let error = await #expect(throws: ImportError.self) {
                        try await DiskImporter().importImage(from: HTTPImportSource(url: server.url(path)), into: ImportTarget(path: "\(directory)/disk.img"))
                    }
                    guard case .httpStatus(_, let got, _)? = error else {
                        Issue.record("expected an HTTP status error, got \(String(describing: error))")
                        continue
                    }
                    #expect(got == code)
                    #expect(error?.isRetryable == retryable)
                    #expect(error?.description.contains("answered \(code)") == true)
                }
            }
        }
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        try await ScratchDirectory.with { directory in
            let error = await #expect(throws: ImportError.self) {
                try await DiskImporter(connectTimeout: .seconds(2)).importImage(
                    from: HTTPImportSource(url: "http://127.0.0.1:9/disk.raw"), into: ImportTarget(path: "\(directory)/disk.img"))
            }
            guard case .transport? = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(error?.isRetryable == true)
        }
    }

    @Test(arguments: ["raw", "qcow2", "raw.gz"])
    func aTruncatedStreamFailsAndIsRetryable(kind: String) async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            let size = Int64(TestImages.contents("\(directory)/\(name)").count)
            try await ImageServer.with(directory: directory) { server in
                let target = "\(directory)/disk.img"
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("truncate/\(name)")), into: ImportTarget(path: target))
                }
                // What the server sent before it closed, less what was in flight when the close was seen.
                guard case .truncated(let url, let expected, let received)? = error else {
                    Issue.record("expected a truncated stream, got \(String(describing: error))")
                    return
                }
                #expect(url == server.url("truncate/\(name)"))
                #expect(expected == size)
                #expect(received <= size / 2)
                #expect(error?.isRetryable == true)
                #expect(ImportMarker.read(at: target + ".complete") == nil)
                #expect(!FileManager.default.fileExists(atPath: "\(directory)/.disk.img.import-scratch"))
            }
        }
    }

    @Test func aCorruptQcow2ReportsQemuImgsWords() async throws {
        try await ScratchDirectory.with { directory in
            var bytes: [UInt8] = [0x51, 0x46, 0x49, 0xFB] + [UInt8](repeating: 0xFF, count: 4096)
            bytes[7] = 3
            _ = FileManager.default.createFile(atPath: "\(directory)/bad.qcow2", contents: Data(bytes))
            try await ImageServer.with(directory: directory) { server in
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/bad.qcow2")), into: ImportTarget(path: "\(directory)/disk.img"))
                }
                guard case .corruptImage(let format, let detail)? = error else {
                    Issue.record("expected a corrupt image, got \(String(describing: error))")
                    return
                }
                #expect(format == "qcow2")
                #expect(detail.contains("qcow2") || detail.contains("Unsupported"))
                #expect(error?.isRetryable == false)
            }
        }
    }

    @Test func aCorruptGzipReportsGzipsWords() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file("raw.gz")
            let bytes = TestImages.contents("\(directory)/\(name)")
            _ = FileManager.default.createFile(atPath: "\(directory)/cut.raw.gz", contents: Data(bytes.prefix(bytes.count / 2)))
            try await ImageServer.with(directory: directory) { server in
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/cut.raw.gz")), into: ImportTarget(path: "\(directory)/disk.img"))
                }
                guard case .corruptImage(let format, let detail)? = error else {
                    Issue.record("expected a corrupt image, got \(String(describing: error))")
                    return
                }
                #expect(format == "gzip")
                #expect(detail.contains("unexpected end of file"))
            }
        }
    }

    @Test(arguments: [("raw", true), ("qcow2", true), ("raw.gz", false), ("vdi", true)])
    func aTooSmallVolumeSaysBothSizes(kind: String, exact: Bool) async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            try await ImageServer.with(directory: directory) { server in
                let target = "\(directory)/disk.img"
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/\(name)")), into: ImportTarget(path: target, requestedSize: 1 << 20))
                }
                guard case .targetTooSmall(let virtualSize, let volumeSize, let gotExact)? = error else {
                    Issue.record("expected a too-small target, got \(String(describing: error))")
                    return
                }
                #expect(volumeSize == 1 << 20)
                #expect(gotExact == exact)
                if exact {
                    #expect(virtualSize == images.rawSize)
                    #expect(error?.description.hasPrefix("the image's virtual size 4194304 is larger than the volume's 1048576") == true)
                } else {
                    #expect(virtualSize > 1 << 20)
                }
                #expect(error?.isRetryable == false)
                #expect(ImportMarker.read(at: target + ".complete") == nil)
            }
        }
    }

    @Test(arguments: ["raw", "qcow2"])
    func aFullDiskSaysSo(kind: String) async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let name = try await images.file(kind)
            let small = "\(directory)/small"
            try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
            try await TestImages.run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small])
            defer { TestImages.unmount(small) }
            try await ImageServer.with(directory: directory) { server in
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(
                        from: HTTPImportSource(url: server.url("f/\(name)")), into: ImportTarget(path: "\(small)/disk.img", requestedSize: 8 << 20))
                }
                guard case .diskFull? = error else {
                    Issue.record("expected a full disk, got \(String(describing: error))")
                    return
                }
                #expect(error?.description.contains("no space left") == true)
            }
        }
    }

    @Test func aRerunAfterAFailureStartsClean() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            try await images.file("qcow2")
            try await ImageServer.with(directory: directory) { server in
                let target = ImportTarget(path: "\(directory)/disk.img")
                _ = try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/disk.qcow2")), into: target)
                #expect(ImportMarker.read(at: target.path + ".complete") != nil)
                // A failed attempt takes the marker and the half disk away before it writes anything.
                await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("truncate/disk.qcow2")), into: target)
                }
                #expect(ImportMarker.read(at: target.path + ".complete") == nil)
                #expect(!FileManager.default.fileExists(atPath: target.path))
                #expect(!FileManager.default.fileExists(atPath: "\(directory)/.disk.img.import-scratch"))
                // Once the server serves the whole image again, the rerun succeeds.
                _ = try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/disk.qcow2")), into: target)
                #expect(Array(TestImages.contents(target.path)) == TestImages.contents(images.raw))
                #expect(ImportMarker.read(at: target.path + ".complete") != nil)
            }
        }
    }

    @Test func credentialsAndExtraHeadersAreSent() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            try await ImageServer.with(directory: directory) { server in
                let target = ImportTarget(path: "\(directory)/disk.img")
                _ = try await DiskImporter().importImage(
                    from: HTTPImportSource(url: server.url("auth/disk.raw"), credentials: .init(username: "user", password: "s3cret")), into: target)
                _ = try await DiskImporter().importImage(
                    from: HTTPImportSource(url: server.url("header/disk.raw"), headers: [("X-Token", "t0ken")]), into: target)
                #expect(TestImages.contents(target.path) == TestImages.contents(images.raw))
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter().importImage(
                        from: HTTPImportSource(url: server.url("auth/disk.raw"), credentials: .init(username: "user", password: "wrong")), into: target)
                }
                #expect(error == .httpStatus(url: server.url("auth/disk.raw"), code: 401, reason: "Unauthorized"))
                #expect(error?.description.contains("check the credentials") == true)
            }
        }
    }

    @Test func httpsTrustsTheCABundleOrSkipsVerification() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            let certificate = "\(directory)/.cert.pem", key = "\(directory)/.key.pem"
            try await TestImages.run("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate,
                "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
            let pem = try String(contentsOfFile: certificate, encoding: .utf8)
            try await ImageServer.with(directory: directory, tls: (certificate, key)) { server in
                let target = ImportTarget(path: "\(directory)/disk.img")
                _ = try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/disk.raw"), caBundlePEM: pem), into: target)
                #expect(TestImages.contents(target.path) == TestImages.contents(images.raw))
                _ = try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/disk.raw"), insecureSkipVerify: true), into: target)
                #expect(ImportMarker.read(at: target.path + ".complete") != nil)
                let error = await #expect(throws: ImportError.self) {
                    try await DiskImporter(connectTimeout: .seconds(3)).importImage(from: HTTPImportSource(url: server.url("f/disk.raw")), into: target)
                }
                guard case .transport(_, let detail)? = error else {
                    Issue.record("expected a TLS failure, got \(String(describing: error))")
                    return
                }
                #expect(detail.contains("TLS") || detail.lowercased().contains("certificate"))
            }
        }
    }

    @Test func refusesImagesThatReachForOtherFiles() async throws {
        try await ScratchDirectory.with { directory in
            let images = try TestImages.make(in: directory)
            try await images.file("qcow2")
            try await TestImages.run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", "\(directory)/overlay.qcow2", "1M"])
            _ = FileManager.default.createFile(
                atPath: "\(directory)/disk.vmdk-descriptor",
                contents: Data("# Disk DescriptorFile\nversion=1\nRW 8192 FLAT \"/etc/hostname\" 0\n".utf8))
            try await ImageServer.with(directory: directory) { server in
                for name in ["overlay.qcow2", "disk.vmdk-descriptor"] {
                    let error = await #expect(throws: ImportError.self) {
                        try await DiskImporter().importImage(from: HTTPImportSource(url: server.url("f/\(name)")), into: ImportTarget(path: "\(directory)/disk.img"))
                    }
                    guard case .unsupportedImage? = error else {
                        Issue.record("\(name): expected an unsupported image, got \(String(describing: error))")
                        continue
                    }
                }
            }
        }
    }

    @Test func invalidSourcesAndTargetsAreRefusedUpFront() async throws {
        await #expect(throws: ImportError.invalidSource("\"ftp://example.com/x\" is not an http:// or https:// URL")) {
            try await DiskImporter().importImage(from: HTTPImportSource(url: "ftp://example.com/x"), into: ImportTarget(path: "/tmp/x.img"))
        }
        await #expect(throws: ImportError.invalidTarget("the directory of /nonexistent-dir/disk.img does not exist")) {
            try await DiskImporter().importImage(
                from: HTTPImportSource(url: "http://127.0.0.1:9/x"), into: ImportTarget(path: "/nonexistent-dir/disk.img"))
        }
        #expect(throws: ImportError.self) { try ImportChecksum("sha256:abc") }
        #expect(throws: ImportError.self) { try ImportChecksum("crc32:00000000") }
    }
}
