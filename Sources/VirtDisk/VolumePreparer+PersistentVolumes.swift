import Foundation
import VirtAPI
import VirtError
import VirtOS

/// PersistentVolumeClaim volumes, as virt-launcher uses them:
///
/// | volume mode | the volume on the node | QEMU opens |
/// | --- | --- | --- |
/// | Filesystem | a directory | `<dir>/disk.img` (raw), made sparse at the claim's size when missing, grown when the claim grew |
/// | Filesystem | a regular file | that file (raw) |
/// | Block | a block device | the device (`host_device`) |
/// | Block | a directory or regular file | a loop device over `<dir>/disk.img` (sparse, made when missing) or the file |
///
/// A loop device is remembered in `<state>/disks/<volume>.loop` (the device and its file), reused by a retried
/// prepare and detached by ``releasePersistentVolumes(stateDirectory:)`` when the guest stops or its pod goes.
/// The volume's files are never removed here: they outlive the guest, until the volume is reclaimed
/// (``removeVolume(at:loops:)``, which first detaches any loop device still over them).
extension VolumePreparer {
    /// Prepares every volume of `vmi`, in `spec.volumes` order; `claims` holds the bound claims its
    /// `persistentVolumeClaim` volumes name, by claim name.
    public func prepare(_ vmi: VirtualMachineInstance, stateDirectory: String, secrets: [String: Secret],
                        claims: [String: ClaimedVolume]) async throws -> [PreparedDisk] {
        let volumes = vmi.spec.volumes ?? []
        guard volumes.contains(where: { $0.persistentVolumeClaim != nil }) else {
            return try await prepare(vmi, stateDirectory: stateDirectory, secrets: secrets)
        }
        if !volumes.isEmpty { try FileSystem.makeDirectory(Self.disksDirectory(stateDirectory: stateDirectory)) }
        return try await withThrowingTaskGroup(of: (Int, PreparedDisk).self) { group in
            for (index, volume) in volumes.enumerated() {
                group.addTask {
                    guard let source = volume.persistentVolumeClaim else {
                        return (index, try await prepare(volumeAt: index, of: vmi, stateDirectory: stateDirectory, secrets: secrets))
                    }
                    let field = "spec.volumes[\(index)].persistentVolumeClaim"
                    guard let claimName = source.claimName, !claimName.isEmpty else {
                        throw FieldError.required("\(field).claimName", "the name of the PersistentVolumeClaim to use")
                    }
                    guard let claim = claims[claimName] else {
                        throw FieldError.notFound("\(field).claimName", "persistentvolumeclaim \"\(claimName)\" is not bound on this node")
                    }
                    return (index, try await preparePersistentVolume(claim, name: volume.name, field: field, stateDirectory: stateDirectory))
                }
            }
            var disks: [(Int, PreparedDisk)] = []
            for try await disk in group { disks.append(disk) }
            return disks.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Makes one claimed volume ready: its image file, or its block device.
    public func preparePersistentVolume(_ claim: ClaimedVolume, name: String, field: String, stateDirectory: String) async throws -> PreparedDisk {
        guard claim.path.hasPrefix("/") else {
            throw FieldError.invalid(field, "persistentvolume \"\(claim.volumeName)\": \(claim.path) is not an absolute path")
        }
        var disk = PreparedDisk(volumeName: name, source: .persistentVolumeClaim, path: claim.path, format: .raw, readOnly: claim.readOnly)
        if claim.mode == .block, Self.isBlockDevice(claim.path) {
            disk.blockDevice = true
            return disk
        }
        let image: String
        switch FileSystem.resolvedKind(claim.path) {
        case .regular?:
            image = claim.path
        case .directory?, nil:
            image = "\(claim.path)/\(StorageNames.diskImageName)"
            try Self.makeSparseImage(image, size: claim.capacity, volume: claim.volumeName, field: field)
        default:
            throw FieldError.invalid(field, "persistentvolume \"\(claim.volumeName)\": \(claim.path) is neither a directory, a regular file nor a block device")
        }
        disk.path = image
        guard claim.mode == .block else { return disk }

        let marker = "\(Self.disksDirectory(stateDirectory: stateDirectory))/\(name).loop"
        let loops = LoopDevices(runner: runner)
        if let remembered = Self.loopMarker(at: marker)?.device,
           (try? await loops.devices(backing: image))?.contains(remembered) == true
        {
            disk.path = remembered
        } else {
            do {
                disk.path = try await loops.attach(image, readOnly: claim.readOnly)
            } catch {
                throw VirtError(.internal, "\(field): cannot attach a loop device to \(image) for the Block volume \(claim.volumeName)", cause: error)
            }
            // The device and its file: release detaches the device only while that file is still behind it.
            try "\(disk.path)\n\(image)\n".write(toFile: marker, atomically: true, encoding: .utf8)
        }
        disk.blockDevice = true
        return disk
    }

    /// Detaches the loop devices ``preparePersistentVolume(_:name:field:stateDirectory:)`` attached for the pod,
    /// each only while the file it was attached to is still behind it (a device detached already may have
    /// been given to another file since). Safe to repeat; the markers go once their devices are detached.
    public func releasePersistentVolumes(stateDirectory: String) async throws {
        let disks = Self.disksDirectory(stateDirectory: stateDirectory)
        let loops = LoopDevices(runner: runner)
        let markers = ((try? FileSystem.list(disks)) ?? []).filter { $0.hasSuffix(".loop") }.sorted()
        guard !markers.isEmpty else { return }
        let attached = try await loops.attachments()
        for file in markers {
            let marker = "\(disks)/\(file)"
            if let remembered = Self.loopMarker(at: marker),
               attached.contains(where: { $0.device == remembered.device && (remembered.image == nil || $0.backingFile == remembered.image) })
            {
                do {
                    try await loops.detach(remembered.device)
                } catch {
                    throw VirtError(.internal, "cannot detach the loop device \(remembered.device) of \(remembered.image ?? "a Block volume") (\(marker))", cause: error)
                }
            }
            try FileSystem.remove(marker)
        }
    }

    /// The loop devices the pod whose state directory is `stateDirectory` holds for its Block volumes.
    public static func rememberedLoopDevices(stateDirectory: String) -> [String] {
        let disks = disksDirectory(stateDirectory: stateDirectory)
        return ((try? FileSystem.list(disks)) ?? []).filter { $0.hasSuffix(".loop") }.sorted()
            .compactMap { loopMarker(at: "\(disks)/\($0)")?.device }
    }

    /// The loop device a `<volume>.loop` marker names, and the file it was attached to (markers written
    /// before the file was recorded name only the device).
    static func loopMarker(at path: String) -> (device: String, image: String?)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let device = lines.first, device.hasPrefix("/dev/") else { return nil }
        return (device, lines.count > 1 ? lines[1] : nil)
    }

    /// Removes a reclaimed volume's directory (or file) on this node, after detaching every loop device whose
    /// backing file is in it: removing the file alone would leave the device attached to a deleted file.
    public static func removeVolume(at path: String, loops: LoopDevices) async throws {
        guard path.hasPrefix("/"), path != "/" else { throw VirtError(.invalid, "\(path): a volume's path must be absolute") }
        do {
            try await loops.detachAll(backedAt: path)
        } catch {
            throw VirtError(.internal, "cannot detach the loop devices over the volume at \(path)", cause: error)
        }
        try removeVolume(at: path)
    }

    /// Removes a reclaimed volume's directory (or file) on this node; nothing there is no error.
    public static func removeVolume(at path: String) throws {
        guard path.hasPrefix("/"), path != "/" else { throw VirtError(.invalid, "\(path): a volume's path must be absolute") }
        try FileSystem.remove(path)
    }

    /// Creates `path` as a sparse file of `size` bytes when it is missing (its directory too), and grows a
    /// smaller one to `size` (an expanded claim); a file is never shrunk.
    static func makeSparseImage(_ path: String, size: Int64, volume: String, field: String) throws {
        if FileSystem.resolvedKind(path) == .regular {
            let rounded = size / 512 * 512
            if let current = FileSystem.size(path), current < rounded, truncate(path, off_t(rounded)) != 0 {
                throw VirtError(.internal, "\(field): cannot grow \(path) to \(rounded) bytes for persistentvolume \"\(volume)\": \(String(cString: strerror(errno)))")
            }
            return
        }
        guard size > 0 else { throw FieldError.invalid(field, "persistentvolume \"\(volume)\" has no capacity to size \(path)") }
        do {
            try FileSystem.makeDirectory((path as NSString).deletingLastPathComponent)
        } catch {
            throw VirtError(.internal, "\(field): cannot create the directory of persistentvolume \"\(volume)\"", cause: error)
        }
        let partial = "\(path).\(FileSystem.uniqueSuffix()).partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil), truncate(partial, off_t(size / 512 * 512)) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileSystem.remove(partial)
            throw VirtError(.internal, "\(field): cannot create \(path) of \(size) bytes for persistentvolume \"\(volume)\": \(reason)")
        }
        try FileSystem.rename(partial, path)
    }

    static func isBlockDevice(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFBLK
    }
}
