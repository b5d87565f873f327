import Foundation
import Synchronization
import VirtAPI
import VirtOS
import VirtRegistry

/// Finds the disk of a containerDisk on this node.
///
/// `containerDisk.image` may be:
/// - `/path/disk.qcow2` or `/path/disk.img`: a qcow2 or raw file, used in place;
/// - `/path/layout`, `/path/layout:TAG`, `/path/layout@sha256:…`, or the same with an `oci:` prefix
///   (skopeo's syntax): an OCI image layout (`index.json`, `blobs/sha256/…`). The manifest is picked by tag
///   (`org.opencontainers.image.ref.name`), digest, or — when there is one image, or one for this node's
///   platform — on its own. As KubeVirt does, the disk is the only file in `/disk/` of the image's file
///   system (or `containerDisk.path`); it is extracted once with `tar` into the cache, keyed by the manifest
///   digest, and verified: every blob against its digest, the disk with `qemu-img info` (raw, or qcow2
///   without a backing file);
/// - `/path/rootfs`: an unpacked image file system with the disk in `disk/`;
/// - anything else is a registry reference (`quay.io/kubevirt/cirros-container-disk-demo:v1`,
///   `127.0.0.1:5000/guest@sha256:…`): its manifest for this node's platform is fetched over the OCI
///   distribution API (as `imagePullPolicy` says: `Always` every time, `IfNotPresent` only when the node
///   has not pulled that tag or digest yet, `Never` not at all; KubeVirt's default is `Always` for
///   `:latest` and `IfNotPresent` otherwise), its
///   layers pulled into the cache's own OCI layout (`<cache>/registry`, blobs by digest) only when that
///   manifest's disk has not been extracted before, and the disk extracted as from any layout. Every VM
///   that uses the same image shares the one extracted copy.
public struct ContainerDiskStore: Sendable {
    /// Where disks from OCI layouts are extracted, one directory per manifest digest; registry pulls keep
    /// their blobs in its `registry/` layout.
    public var cacheDirectory: String
    /// The OCI architecture of this node (`amd64`, `arm64`, …), for multi-platform images.
    public var architecture: String
    let runner: any CommandRunner
    let qemuImg: QemuImg
    /// How registries are reached (HTTP through AsyncHTTPClient; a fake in tests).
    let registryTransport: any RegistryTransport

    public init(cacheDirectory: String, runner: any CommandRunner = ProcessRunner(), architecture: String = ContainerDiskStore.hostArchitecture,
                registryTransport: any RegistryTransport = HTTPRegistryTransport.shared) {
        self.cacheDirectory = cacheDirectory
        self.architecture = architecture
        self.runner = runner
        self.qemuImg = QemuImg(runner: runner)
        self.registryTransport = registryTransport
    }

    /// The OCI name of the architecture this program runs on.
    public static var hostArchitecture: String {
        #if arch(x86_64)
            "amd64"
        #elseif arch(arm64)
            "arm64"
        #elseif arch(s390x)
            "s390x"
        #elseif arch(powerpc64le)
            "ppc64le"
        #else
            "unknown"
        #endif
    }

    /// Resolves `image` (and the optional `containerDisk.path` inside it) to a disk file on this node;
    /// `credentials` are sent to a registry that asks for them; `pullPolicy` (`Always`, `IfNotPresent`,
    /// `Never`; KubeVirt's default when nil) says when a registry image is asked for again.
    public func resolve(image: String, path: String? = nil, credentials: RegistryCredentials? = nil, pullPolicy: String? = nil) async throws
        -> ContainerDiskImage
    {
        switch try Self.parse(image) {
        case .file(let file):
            return try await verifiedDisk(at: file, image: image)
        case .rootfs(let root):
            let member = try Self.diskMember(in: root, path: path, image: image)
            guard FileSystem.kind(member) == .regular else {
                throw ContainerDiskError.noDisk(image: image, detail: "\(member) is not a regular file")
            }
            return try await verifiedDisk(at: member, image: image)
        case .layout(let directory, let selector):
            return try await resolveLayout(directory: directory, selector: selector, path: path, image: image)
        case .registry(let reference):
            return try await resolveRegistry(reference, path: path, image: image, credentials: credentials, pullPolicy: pullPolicy)
        }
    }

    // MARK: - Checking the disk

    /// Probes the disk with qemu-img and accepts what KubeVirt accepts: qcow2 without a backing file, or raw.
    /// A disk whose file has not changed since it was last accepted is not probed again (a qemu-img run
    /// costs about 10 ms of every VM start).
    func verifiedDisk(at path: String, image: String) async throws -> ContainerDiskImage {
        let identity = VerifiedDisks.Identity(path: path)
        if let identity, let known = VerifiedDisks.shared.withLock({ $0[identity] }) {
            return known
        }
        let verified = try await probe(path, image: image)
        if let identity { VerifiedDisks.shared.withLock { $0[identity] = verified } }
        return verified
    }

    func probe(_ path: String, image: String) async throws -> ContainerDiskImage {
        let info = try await qemuImg.info(path: path)
        switch info.format {
        case .qcow2:
            if let backing = info.backingFile, !backing.isEmpty {
                throw ContainerDiskError.unusableDisk(image: image, detail: "the qcow2 has a backing file (\(backing)); flatten it with qemu-img convert")
            }
        case .raw:
            let size = FileSystem.size(path) ?? 0
            guard size > 0, size % 512 == 0 else {
                throw ContainerDiskError.unusableDisk(image: image, detail: "\(path) is not raw or qcow2 (raw disks are a positive multiple of 512 bytes; it has \(size))")
            }
        default:
            throw ContainerDiskError.unusableDisk(
                image: image, detail: "format \(info.format) is not supported; convert it with qemu-img convert -O qcow2")
        }
        return ContainerDiskImage(path: path, format: info.format, virtualSize: info.virtualSize)
    }
}

/// Disks this process has already accepted, by file identity.
enum VerifiedDisks {
    /// A file as it is now: a change to its content moves its size, modification time or inode.
    struct Identity: Hashable {
        var path: String
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int
        var modifiedNanoseconds: Int

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            self.path = path
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = Int(info.st_mtim.tv_sec)
            modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
        }
    }

    static let shared = Mutex<[Identity: ContainerDiskImage]>([:])
}
