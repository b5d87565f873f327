import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a pod's root filesystem borrows from the host: which top-level system directories exist and
/// whether they are directories or symlinks (Debian 12 merges `/bin`, `/sbin`, `/lib*` into `/usr`), and
/// which device nodes exist.
///
/// Probed once from the host; tests build one by hand, so the OCI spec is a pure function of it.
public struct HostLayout: Sendable, Equatable {
    /// One top-level host path shared read-only with pods.
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// A directory: bind-mounted read-only.
            case directory
            /// A symlink (e.g. `/bin -> usr/bin`): the same symlink is created in the pod's rootfs.
            case symlink(target: String)
        }
        /// Absolute path, e.g. `/lib64`.
        public var path: String
        public var kind: Kind

        public init(path: String, kind: Kind) {
            self.path = path
            self.kind = kind
        }
    }

    /// A device node on the host.
    public struct Device: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case character = "c"
            case block = "b"
        }
        public var path: String
        public var kind: Kind
        public var major: Int64
        public var minor: Int64
        /// Permission bits of the host node.
        public var fileMode: Int64

        public init(path: String, kind: Kind, major: Int64, minor: Int64, fileMode: Int64 = 0o600) {
            self.path = path
            self.kind = kind
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
        }
    }

    /// The host paths pods see, in mount order. `/usr` first: the symlinks point into it.
    public static let sharedPaths = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]

    /// The shared paths that exist on the host.
    public var entries: [Entry]
    /// The device nodes that exist on the host, of those asked for.
    public var devices: [Device]

    public init(entries: [Entry], devices: [Device] = []) {
        self.entries = entries
        self.devices = devices
    }

    /// Debian 12 with merged `/usr`, `/dev/kvm` and `/dev/net/tun`: the layout unit tests use.
    public static let mergedUsr = HostLayout(
        entries: [
            Entry(path: "/usr", kind: .directory),
            Entry(path: "/etc", kind: .directory),
            Entry(path: "/bin", kind: .symlink(target: "usr/bin")),
            Entry(path: "/sbin", kind: .symlink(target: "usr/sbin")),
            Entry(path: "/lib", kind: .symlink(target: "usr/lib")),
            Entry(path: "/lib64", kind: .symlink(target: "usr/lib64")),
        ],
        devices: [
            Device(path: "/dev/kvm", kind: .character, major: 10, minor: 232),
            Device(path: "/dev/net/tun", kind: .character, major: 10, minor: 200),
        ])

    /// Looks at the host: `sharedPaths` under `root` and the device nodes in `devices` (missing ones are left out).
    public static func probe(devices devicePaths: [String], root: String = "/") -> HostLayout {
        let prefix = root.hasSuffix("/") ? String(root.dropLast()) : root
        var entries: [Entry] = []
        for path in sharedPaths {
            var info = stat()
            guard lstat(prefix + path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: prefix + path) {
                    entries.append(Entry(path: path, kind: .symlink(target: target)))
                }
            case S_IFDIR:
                entries.append(Entry(path: path, kind: .directory))
            default:
                continue
            }
        }
        var devices: [Device] = []
        for path in devicePaths {
            var info = stat()
            guard stat(prefix + path, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            guard type == S_IFCHR || type == S_IFBLK else { continue }
            let rdev = UInt64(info.st_rdev)
            // glibc's gnu_dev_major / gnu_dev_minor.
            let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff))
            let minor = (rdev & 0xff) | ((rdev >> 12) & ~UInt64(0xff))
            devices.append(Device(path: path, kind: type == S_IFCHR ? .character : .block,
                                  major: Int64(major), minor: Int64(minor), fileMode: Int64(info.st_mode & 0o7777)))
        }
        return HostLayout(entries: entries, devices: devices)
    }
}
