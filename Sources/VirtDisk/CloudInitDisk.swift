import Foundation
import VirtAPI
import VirtError
import VirtOS

/// Writes a `CloudInitSeed` as an ISO 9660 image with Joliet and Rock Ridge names, labelled `cidata`
/// (NoCloud) or `config-2` (ConfigDrive), the way KubeVirt does, so any NoCloud / ConfigDrive reader finds
/// it: cloud-init, cloudbase-init, Ignition-less distributions, the project's test guest.
///
/// The seed files are written into a private staging directory next to the output, the ISO tool runs
/// through the injected `CommandRunner` into `<output>.staging`, which is then renamed over the output, so a
/// reader never sees a half-written ISO. The staging directory is removed whatever happens.
public struct CloudInitDisk: Sendable {
    /// The program that writes the ISO.
    public enum ISOTool: Sendable, Equatable {
        /// `genisoimage -output OUT -volid LABEL -joliet -rock DIR` (Debian package genisoimage).
        case genisoimage
        /// `xorrisofs -output OUT -volid LABEL -joliet -rock -partition_cyl_align on DIR`: KubeVirt's
        /// exact command (Debian package xorriso). The image is padded to a whole 1 MiB cylinder.
        case xorrisofs

        public var executable: String {
            switch self {
            case .genisoimage: "genisoimage"
            case .xorrisofs: "xorrisofs"
            }
        }

        /// The arguments that write `directory` into `output` labelled `volumeLabel`.
        public func arguments(output: String, volumeLabel: String, directory: String) -> [String] {
            switch self {
            case .genisoimage:
                ["-quiet", "-input-charset", "utf-8", "-output", output, "-volid", volumeLabel, "-joliet", "-rock", directory]
            case .xorrisofs:
                ["-output", output, "-volid", volumeLabel, "-joliet", "-rock", "-partition_cyl_align", "on", directory]
            }
        }
    }

    public var tool: ISOTool
    let runner: any CommandRunner

    public init(tool: ISOTool = .genisoimage, runner: any CommandRunner = ProcessRunner()) {
        self.tool = tool
        self.runner = runner
    }

    /// Builds the seed ISO of `vmi.spec.volumes[volumeIndex]` at `outputPath` and returns the seed it wrote.
    @discardableResult
    public func build(for vmi: VirtualMachineInstance, volumeIndex: Int, secrets: [String: Secret] = [:], at outputPath: String) async throws
        -> CloudInitSeed
    {
        let seed = try CloudInitSeed(vmi: vmi, volumeIndex: volumeIndex, secrets: secrets)
        try await build(seed, at: outputPath)
        return seed
    }

    /// Writes `seed` as an ISO at `outputPath` (an absolute path; its directory is created if missing).
    public func build(_ seed: CloudInitSeed, at outputPath: String) async throws {
        let output = URL(fileURLWithPath: outputPath)
        let directory = output.deletingLastPathComponent()
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        let staging = directory.appendingPathComponent(".\(output.lastPathComponent).data-\(UUID().uuidString.prefix(8))")
        let stagingISO = outputPath + ".staging"
        defer {
            try? fileManager.removeItem(at: staging)
            try? fileManager.removeItem(atPath: stagingISO)
        }
        // The seed may hold passwords: only the owner reads the inputs (the ISO keeps their modes).
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        for file in seed.files {
            let components = file.path.split(separator: "/")
            guard !components.isEmpty, !components.contains(where: { $0 == ".." || $0 == "." }) else {
                throw VirtError.internalError("cloud-init seed file path \"\(file.path)\" is not a plain relative path")
            }
            let url = staging.appendingPathComponent(file.path)
            try fileManager.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard fileManager.createFile(atPath: url.path, contents: Data(file.contents), attributes: [.posixPermissions: 0o600]) else {
                throw VirtError.internalError("cannot write \(url.path) for the cloud-init seed")
            }
        }
        try? fileManager.removeItem(atPath: stagingISO)
        _ = try await runner.check(
            tool.executable, tool.arguments(output: stagingISO, volumeLabel: seed.dataSource.volumeLabel, directory: staging.path))
        // Readable by QEMU whichever user it runs as; the guest sees the files' own modes through Rock Ridge.
        try fileManager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: stagingISO)
        guard rename(stagingISO, outputPath) == 0 else {
            throw VirtError.internalError("cannot move \(stagingISO) to \(outputPath): \(String(cString: strerror(errno)))")
        }
    }
}
