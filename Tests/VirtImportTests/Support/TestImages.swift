import Foundation
import VirtOS

/// Disk images made with the real qemu-img, gzip and xz from generated raw data, in a test's directory.
struct TestImages {
    let directory: String
    /// The raw disk every other image holds.
    let raw: String
    let rawSize: Int64

    /// A raw disk of `megabytes` MiB: runs of patterned bytes and of zeros (so holes and data both occur).
    static func make(in directory: String, megabytes: Int = 4) throws -> TestImages {
        let size = megabytes << 20
        var bytes = [UInt8](repeating: 0, count: size)
        var state: UInt32 = 0x1234_5678
        for block in 0..<(size >> 16) where block % 3 != 1 {
            for index in (block << 16)..<((block + 1) << 16) {
                state = state &* 1_664_525 &+ 1_013_904_223
                bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
            }
        }
        // A raw disk must not start with another format's magic: an MBR-like first sector.
        bytes[0] = 0xEB
        let path = "\(directory)/disk.raw"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw CocoaError(.fileWriteUnknown) }
        return TestImages(directory: directory, raw: path, rawSize: Int64(size))
    }

    /// The raw disk in another form: `raw`, `raw.gz`, `raw.xz`, `qcow2`, `qcow2.gz`, `vmdk`, `vdi`,
    /// `vhdx`, `vhd`; returns the file's name in the directory.
    @discardableResult
    func file(_ kind: String) async throws -> String {
        let name = "disk.\(kind)"
        let path = "\(directory)/\(name)"
        if FileManager.default.fileExists(atPath: path) { return name }
        let parts = kind.split(separator: ".").map(String.init)
        let base = parts[0]
        let basePath = "\(directory)/disk.\(base)"
        if base != "raw", !FileManager.default.fileExists(atPath: basePath) {
            var arguments = ["convert", "-q", "-f", "raw", "-O", base == "vhd" ? "vpc" : base]
            if base == "vhd" { arguments += ["-o", "force_size=on"] }
            try await Self.run("qemu-img", arguments + [raw, basePath])
        }
        if parts.count > 1 {
            try await Self.run("sh", ["-c", "\(parts[1] == "gz" ? "gzip -c" : "xz -c -0") \(basePath) > \(path)"])
        }
        return name
    }

    static func run(_ executable: String, _ arguments: [String]) async throws {
        _ = try await ProcessRunner().check(executable, arguments)
    }

    /// Unmounts `path` (synchronously, for `defer`).
    static func unmount(_ path: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = [path]
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    /// Detaches a loop device (synchronously, for `defer`).
    static func detachLoop(_ device: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/sbin/losetup")
        process.arguments = ["-d", device]
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    static func contents(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map { Array($0) } ?? [] }
}
