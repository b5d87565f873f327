import Foundation
import VirtError
import VirtOS

/// `losetup`, for `Block` volumes kept in files: a loop device over the file is the raw block device QEMU
/// opens. Runs through an injectable runner, so tests can see the exact command lines.
public struct LoopDevices: Sendable {
    let runner: any CommandRunner
    let executable: String

    public init(runner: any CommandRunner = ProcessRunner(), executable: String = "losetup") {
        self.runner = runner
        self.executable = executable
    }

    /// Attaches a free loop device to `file` (`losetup --find --show`) and returns its path.
    public func attach(_ file: String, readOnly: Bool) async throws -> String {
        let result = try await runner.check(executable, ["--find", "--show"] + (readOnly ? ["--read-only"] : []) + [file])
        let device = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard device.hasPrefix("/dev/") else {
            throw VirtError(.internal, "\(executable) --find --show \(file) named no device (it printed \"\(device)\"); is /dev/loop-control present?")
        }
        return device
    }

    /// The loop devices attached to `file` (`losetup --associated`).
    public func devices(backing file: String) async throws -> [String] {
        let result = try await runner.check(executable, ["--associated", file])
        return result.stdoutText.split(separator: "\n").compactMap { line in
            line.split(separator: ":", maxSplits: 1).first.map(String.init).flatMap { $0.hasPrefix("/dev/") ? $0 : nil }
        }
    }

    /// Detaches `device` (`losetup --detach`). A device still open (QEMU has not exited yet) is detached by
    /// the kernel when it is last closed.
    public func detach(_ device: String) async throws {
        _ = try await runner.check(executable, ["--detach", device])
    }

    /// One loop device and the file behind it, as `losetup --list` shows them.
    public struct Attachment: Sendable, Equatable {
        /// The device, `/dev/loopN`.
        public var device: String
        /// The backing file's path (without the ` (deleted)` the kernel adds once it is unlinked).
        public var backingFile: String
        /// Whether the backing file was removed while the device stayed attached: nothing can use it again.
        public var backingFileDeleted: Bool

        public init(device: String, backingFile: String, backingFileDeleted: Bool = false) {
            self.device = device
            self.backingFile = backingFile
            self.backingFileDeleted = backingFileDeleted
        }

        /// Whether the backing file is `path` or lies under the directory `path`.
        public func isBacked(at path: String) -> Bool {
            let directory = path.hasSuffix("/") ? path : path + "/"
            return backingFile == path || backingFile.hasPrefix(directory)
        }
    }

    /// Every loop device attached on the host, with its backing file (`losetup --list --json`).
    public func attachments() async throws -> [Attachment] {
        let result = try await runner.check(executable, ["--list", "--json", "--output", "NAME,BACK-FILE"])
        let text = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // No loop device at all: losetup prints nothing.
        guard !text.isEmpty else { return [] }
        struct Listing: Decodable {
            struct Device: Decodable {
                var name: String
                var backFile: String?
                enum CodingKeys: String, CodingKey {
                    case name
                    case backFile = "back-file"
                }
            }
            var loopdevices: [Device]
        }
        let listing: Listing
        do {
            listing = try JSONDecoder().decode(Listing.self, from: Data(text.utf8))
        } catch {
            throw VirtError(.internal, "\(executable) --list --json printed what is not its device list: \(error)")
        }
        let deletedSuffix = " (deleted)"
        return listing.loopdevices.compactMap { entry in
            guard let file = entry.backFile, !file.isEmpty else { return nil }
            let deleted = file.hasSuffix(deletedSuffix)
            return Attachment(device: entry.name, backingFile: deleted ? String(file.dropLast(deletedSuffix.count)) : file, backingFileDeleted: deleted)
        }
    }

    /// Detaches `device` if it still has `file` behind it, and says whether it did: a device detached
    /// already (and perhaps attached to another file since) is left alone.
    @discardableResult
    public func detach(_ device: String, ifBacking file: String) async throws -> Bool {
        guard try await attachments().contains(where: { $0.device == device && $0.backingFile == file }) else { return false }
        try await detach(device)
        return true
    }

    /// Detaches every loop device whose backing file is `path` or lies under the directory `path` (a
    /// volume about to be removed), and returns the devices it detached.
    @discardableResult
    public func detachAll(backedAt path: String) async throws -> [String] {
        var detached: [String] = []
        for attachment in try await attachments() where attachment.isBacked(at: path) {
            try await detach(attachment.device)
            detached.append(attachment.device)
        }
        return detached
    }
}
