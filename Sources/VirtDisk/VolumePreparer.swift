import Foundation
import VirtAPI
import VirtError
import VirtOS

/// Turns a VMI's volumes into disk files QEMU can open, the way virt-launcher does, under a per-pod state
/// directory:
///
/// | volume | prepared disk |
/// | --- | --- |
/// | containerDisk | `<state>/disks/<volume>.qcow2`: a qcow2 overlay on the image (see `ContainerDiskStore`), thrown away on stop |
/// | emptyDisk | `<state>/disks/<volume>.qcow2`: a sparse qcow2 of `capacity`, thrown away on stop |
/// | hostDisk | the file at `path` (raw); `DiskOrCreate` creates a sparse raw file of `capacity` when it is missing |
/// | cloudInitNoCloud / cloudInitConfigDrive | `<state>/disks/<volume>.iso`: the seed ISO (raw, read-only), rebuilt on every prepare |
///
/// Preparing again over the same state directory keeps existing overlays and empty disks (so a retried
/// start does not lose data) and rebuilds the seeds. Everything it creates lives under `<state>/disks`, which
/// `cleanup(stateDirectory:)` removes; hostDisk files and the containerDisk cache are never removed.
///
/// Errors are `VirtError`s that name the field (`spec.volumes[2].hostDisk.path: …`), with the subsystem's own
/// error (`QemuImgError`, `ContainerDiskError`) as the cause.
public struct VolumePreparer: Sendable {
    /// Node-wide settings.
    public struct Configuration: Sendable, Equatable {
        /// Where disks from OCI image layouts are extracted once, keyed by manifest digest.
        public var containerDiskCache: String
        /// The program that writes cloud-init ISOs.
        public var isoTool: CloudInitDisk.ISOTool

        public init(containerDiskCache: String = "/var/lib/swiftvirt/containerdisks", isoTool: CloudInitDisk.ISOTool = .genisoimage) {
            self.containerDiskCache = containerDiskCache
            self.isoTool = isoTool
        }
    }

    public var configuration: Configuration
    let runner: any CommandRunner

    public init(configuration: Configuration = Configuration(), runner: any CommandRunner = ProcessRunner()) {
        self.configuration = configuration
        self.runner = runner
    }

    var qemuImg: QemuImg { QemuImg(runner: runner) }

    /// The directory under `stateDirectory` that holds every file `prepare` creates.
    public static func disksDirectory(stateDirectory: String) -> String { "\(stateDirectory)/disks" }

    /// Prepares every volume of `vmi`, in `spec.volumes` order.
    ///
    /// - Parameters:
    ///   - stateDirectory: the pod's state directory (absolute); QEMU must see it at the same path.
    ///   - secrets: Secrets of the VMI's namespace by name, for cloud-init `secretRef`s.
    public func prepare(_ vmi: VirtualMachineInstance, stateDirectory: String, secrets: [String: Secret] = [:]) async throws -> [PreparedDisk] {
        if !(vmi.spec.volumes ?? []).isEmpty { try FileSystem.makeDirectory(Self.disksDirectory(stateDirectory: stateDirectory)) }
        // Volumes are independent files: prepare them side by side (qemu-img and the ISO tool each take
        // tens of milliseconds), and return them in the VMI's order.
        return try await withThrowingTaskGroup(of: (Int, PreparedDisk).self) { group in
            for index in (vmi.spec.volumes ?? []).indices {
                group.addTask { (index, try await prepare(volumeAt: index, of: vmi, stateDirectory: stateDirectory, secrets: secrets)) }
            }
            var disks: [(Int, PreparedDisk)] = []
            for try await disk in group { disks.append(disk) }
            return disks.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Prepares `vmi.spec.volumes[index]`.
    public func prepare(volumeAt index: Int, of vmi: VirtualMachineInstance, stateDirectory: String, secrets: [String: Secret] = [:])
        async throws -> PreparedDisk
    {
        let volumes = vmi.spec.volumes ?? []
        let field = "spec.volumes[\(index)]"
        guard volumes.indices.contains(index) else { throw FieldError.notFound(field, "the VMI has \(volumes.count) volume(s)") }
        let volume = volumes[index]
        guard stateDirectory.hasPrefix("/") else {
            throw VirtError.internalError("the state directory \(stateDirectory) is not an absolute path")
        }
        let name = volume.name
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !name.hasPrefix(".") else {
            throw FieldError.invalid("\(field).name", "\"\(name)\": a volume name must be a DNS label to name its disk file")
        }
        let disks = Self.disksDirectory(stateDirectory: stateDirectory)

        if let containerDisk = volume.containerDisk {
            return try await prepareContainerDisk(containerDisk, name: name, field: "\(field).containerDisk", disks: disks, secrets: secrets)
        }
        if let emptyDisk = volume.emptyDisk {
            return try await prepareEmptyDisk(emptyDisk, name: name, field: "\(field).emptyDisk", disks: disks)
        }
        if let hostDisk = volume.hostDisk {
            return try await prepareHostDisk(hostDisk, name: name, field: "\(field).hostDisk")
        }
        if volume.cloudInitNoCloud != nil || volume.cloudInitConfigDrive != nil {
            let iso = "\(disks)/\(name).iso"
            let seed = try await CloudInitDisk(tool: configuration.isoTool, runner: runner)
                .build(for: vmi, volumeIndex: index, secrets: secrets, at: iso)
            return PreparedDisk(
                volumeName: name, source: seed.dataSource == .noCloud ? .cloudInitNoCloud : .cloudInitConfigDrive,
                path: iso, format: .raw, readOnly: true)
        }
        if volume.ephemeral != nil {
            throw FieldError.notSupported(
                "\(field).ephemeral", "ephemeral volumes (a PVC under a throw-away overlay) are not supported yet; "
                    + "use a containerDisk for a throw-away disk")
        }
        let kinds = volume.sourceTypes
        guard let kind = kinds.first else {
            throw FieldError.required(field, "set exactly one volume source (containerDisk, emptyDisk, hostDisk, cloudInitNoCloud, …)")
        }
        throw FieldError.notSupported("\(field).\(kind)", "\(kind) volumes are not supported by this node yet")
    }

    /// Removes everything `prepare` created under `stateDirectory` (overlays, empty disks, seeds), as on stop.
    public func cleanup(stateDirectory: String) throws {
        try FileSystem.remove(Self.disksDirectory(stateDirectory: stateDirectory))
    }

    // MARK: - Sources

    func prepareEmptyDisk(_ source: EmptyDiskSource, name: String, field: String, disks: String) async throws -> PreparedDisk {
        let size = try Self.diskSize(source.capacity, field: "\(field).capacity")
        let path = "\(disks)/\(name).qcow2"
        if try await !reusable(path, backing: nil) {
            try FileSystem.makeDirectory(disks)
            try await create(path, format: .qcow2, size: size, backing: nil, field: field)
        }
        return PreparedDisk(volumeName: name, source: .emptyDisk, path: path, format: .qcow2, readOnly: false)
    }

    func prepareHostDisk(_ source: HostDisk, name: String, field: String) async throws -> PreparedDisk {
        guard let path = source.path, !path.isEmpty else { throw FieldError.required("\(field).path", "the path of the disk image on the node") }
        guard path.hasPrefix("/") else { throw FieldError.invalid("\(field).path", "\"\(path)\": must be an absolute path") }
        let prepared = PreparedDisk(volumeName: name, source: .hostDisk, path: path, format: .raw, readOnly: false)
        switch source.type {
        case "Disk":
            switch FileSystem.resolvedKind(path) {
            case .regular?:
                return prepared
            case nil:
                throw FieldError.notFound(
                    "\(field).path", "\(path) does not exist on this node (type Disk needs an existing image; "
                        + "type DiskOrCreate with a capacity creates one)")
            default:
                throw FieldError.invalid("\(field).path", "\(path) is not a regular file")
            }
        case "DiskOrCreate":
            switch FileSystem.resolvedKind(path) {
            case .regular?:
                return prepared
            case nil:
                guard let capacity = source.capacity else {
                    throw FieldError.required("\(field).capacity", "type DiskOrCreate needs the size of the disk to create")
                }
                let size = try Self.diskSize(capacity, field: "\(field).capacity")
                do {
                    try FileSystem.makeDirectory((path as NSString).deletingLastPathComponent)
                } catch {
                    throw FieldError.invalid("\(field).path", "cannot create the directory of \(path): \(error)")
                }
                try await create(path, format: .raw, size: size, backing: nil, field: field)
                return prepared
            default:
                throw FieldError.invalid("\(field).path", "\(path) is not a regular file")
            }
        case let other?:
            throw FieldError.notSupported("\(field).type", "\"\(other)\": supported values: \"Disk\", \"DiskOrCreate\"")
        case nil:
            throw FieldError.required("\(field).type", "one of \"Disk\" or \"DiskOrCreate\"")
        }
    }

    // MARK: - Helpers

    /// A capacity in bytes, rounded up to whole 512-byte sectors (what QEMU can address).
    static func diskSize(_ capacity: Quantity, field: String) throws -> Int64 {
        let bytes = capacity.bytes
        guard bytes > 0 else { throw FieldError.invalid(field, "\"\(capacity.text)\": must be greater than 0") }
        let (rounded, overflow) = bytes.addingReportingOverflow(511)
        guard !overflow else { throw FieldError.invalid(field, "\"\(capacity.text)\": too large") }
        return rounded / 512 * 512
    }

    /// Whether a disk left by an earlier prepare of this pod can stay (a qcow2 on the same backing image).
    func reusable(_ path: String, backing: QemuImg.Backing?) async throws -> Bool {
        guard FileSystem.kind(path) == .regular else { return false }
        guard let info = try? await qemuImg.info(path: path, format: .qcow2, forceShare: true) else { return false }
        return info.backingFile == backing?.path
    }

    func create(_ path: String, format: ImageFormat, size: Int64?, backing: QemuImg.Backing?, field: String) async throws {
        do {
            try await qemuImg.create(path: path, format: format, size: size, backing: backing)
        } catch let error as QemuImgError {
            throw VirtError(.internal, "\(field): cannot create \(path)", cause: error)
        }
    }
}
