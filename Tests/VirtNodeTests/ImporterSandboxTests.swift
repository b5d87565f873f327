import Foundation
import Testing
import VirtOS

@testable import VirtNode

/// The sandbox imports run in: what it mounts and shares (pure), and, with runc as root (as CI runs), that an import
/// really runs in a mount namespace of its own on the host's network with no capabilities, and that
/// nothing of the sandbox is left once it ends.
@Suite struct ImporterSandboxTests {
    let directory = NSTemporaryDirectory() + "importer-sandbox-\(UUID().uuidString.prefix(8))"

    @Test func theIdFollowsTheTarget() throws {
        let one = ImporterSandbox.id(forTarget: "/v/pvc-1/disk.img")
        #expect(one == ImporterSandbox.id(forTarget: "/v/pvc-1/disk.img"))
        #expect(one != ImporterSandbox.id(forTarget: "/v/pvc-2/disk.img"))
        #expect(one.hasPrefix("import-"))
        #expect(one.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" })
    }

    @Test func theSpecSharesOnlyWhatTheImportNeeds() {
        let spec = ImporterSandbox.spec(
            id: "import-1", executable: "/opt/sv/bin/swiftvirt-importer", arguments: ["--target", "/v/pvc-1/disk.img"],
            environment: ["SWIFTVIRT_IMPORT_PASSWORD=p"], target: "/v/pvc-1/disk.img", readOnly: ["/cache/blobs/disk.qcow2"],
            libraries: ["/opt/swift/lib", "/usr/lib/x86_64-linux-gnu", "/opt/sv/bin"])
        #expect(spec.networkNamespace == .host)
        #expect(spec.capabilities.isEmpty)
        #expect(spec.devices.isEmpty)
        #expect(spec.process.arguments == ["/opt/sv/bin/swiftvirt-importer", "--target", "/v/pvc-1/disk.img"])
        #expect(spec.process.environment == ["SWIFTVIRT_IMPORT_PASSWORD=p"])
        #expect(spec.mounts.map { "\($0.source) \($0.readOnly ? "ro" : "rw")" } == [
            "/v/pvc-1 rw", "/opt/sv/bin ro", "/opt/swift/lib ro", "/cache/blobs/disk.qcow2 ro",
        ])
    }

    @Test func theLibraryDirectoriesComeFromLddsPaths() {
        let output = """
            \tlinux-vdso.so.1 (0x00007ffd)
            \tlibswiftCore.so => /opt/swift/usr/lib/swift/linux/libswiftCore.so (0x00007f7b)
            \tlibdispatch.so => /opt/swift/usr/lib/swift/linux/libdispatch.so (0x00007f7c)
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f7d)
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f7e)
            """
        #expect(ImporterSandbox.parseLibraryDirectories(output) == ["/opt/swift/usr/lib/swift/linux", "/lib/x86_64-linux-gnu"])
        #expect(ImporterSandbox.parseLibraryDirectories("\tnot a dynamic executable") == [])
    }

    /// A stand-in importer that writes, into its target, the namespaces and capabilities it runs with.
    func writeProbe() throws -> String {
        let bin = directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = bin + "/probe-importer"
        try """
            #!/bin/sh
            # --target TARGET --size N --progress --blank
            { readlink /proc/self/ns/mnt; readlink /proc/self/ns/net; grep CapEff /proc/self/status; } > "$2"
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return script
    }

    @Test  // root and runc, as `make test` runs on CI
    func anImportRunsInItsOwnMountNamespaceOnTheHostNetworkWithNoCapabilities() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = try writeProbe()
        let volume = directory + "/volume"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        let sandbox = ImporterSandbox(podsDirectory: directory + "/pods")
        let importer = ImporterProcess(executable: script, sandbox: sandbox)
        let request = VolumeImportRequest(source: "blank", target: volume + "/disk.img", size: 1 << 20, logPath: volume + "/disk.img.import.log")

        #expect(await importer.run(request) { _ in } == .succeeded)

        let lines = try String(contentsOfFile: volume + "/disk.img", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let ownMount = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        let ownNetwork = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        #expect(lines.first != ownMount)
        #expect(lines.dropFirst().first == ownNetwork)
        #expect(lines.last?.hasSuffix("0000000000000000") == true)
        // Nothing of the sandbox is left: no container in the agent's runc root, no bundle.
        let id = ImporterSandbox.id(forTarget: request.target)
        #expect(!sandbox.sandbox.runc.hasStateDirectory(id))
        #expect(!FileManager.default.fileExists(atPath: sandbox.sandbox.bundle(for: id).path))
    }

    @Test  // root and runc, as `make test` runs on CI
    func anUploadInASandboxBecomesTheDiskAndAKilledOneLeavesNoMarker() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let volume = directory + "/volume"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        let sandbox = ImporterSandbox(podsDirectory: directory + "/pods")
        let importer = UploadImporterProcess(sandbox: sandbox)
        let target = volume + "/disk.img"
        let image = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 * 5 + 3) }

        let upload = try importer.start(target: target, size: 2 << 20, logPath: target + ".upload.log")
        var offset = 0
        while offset < image.count {
            let written = image[offset...].withUnsafeBytes { Glibc.write(upload.descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            offset += written
        }
        close(upload.descriptor)
        #expect(await upload.outcome() == .succeeded)
        let disk = try #require(FileManager.default.contents(atPath: target))
        #expect(disk.count == 2 << 20 && Array(disk.prefix(image.count)) == image)
        #expect(FileManager.default.fileExists(atPath: target + ".complete"))

        // An upload killed before its end: no marker, no sandbox left.
        let other = directory + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let killedTarget = other + "/disk.img"
        let killed = try importer.start(target: killedTarget, size: 2 << 20, logPath: killedTarget + ".upload.log")
        _ = image.prefix(4096).withUnsafeBytes { Glibc.write(killed.descriptor, $0.baseAddress, $0.count) }
        try await Task.sleep(for: .milliseconds(300))
        killed.kill()
        close(killed.descriptor)
        #expect(await killed.outcome() != .succeeded)
        #expect(!FileManager.default.fileExists(atPath: killedTarget + ".complete"))
        for id in [ImporterSandbox.id(forTarget: target), ImporterSandbox.id(forTarget: killedTarget)] {
            #expect(!sandbox.sandbox.runc.hasStateDirectory(id))
            #expect(!FileManager.default.fileExists(atPath: sandbox.sandbox.bundle(for: id).path))
        }
    }
}
