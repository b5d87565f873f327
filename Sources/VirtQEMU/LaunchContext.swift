/// Everything the node agent prepared for one QEMU launch that the VMI spec cannot say: sockets, the
/// files behind each disk, the kernel, the network backends, the accelerator that works on this node.
///
/// `QEMUCommand.build` reads only this and the spec, so the same inputs always give the same command
/// line. Paths are paths as QEMU will see them (inside the pod).
public struct LaunchContext: Codable, Sendable, Equatable {
    /// How QEMU runs guest code.
    public enum Accelerator: String, Codable, Sendable {
        /// Hardware virtualisation through `/dev/kvm`.
        case kvm
        /// QEMU's software emulator; works everywhere, several times slower.
        case tcg
    }

    /// A disk image the agent prepared for the disk of the same name.
    public struct PreparedDisk: Codable, Sendable, Equatable {
        /// The image format QEMU opens the file with.
        public enum Format: String, Codable, Sendable {
            case raw
            case qcow2
        }

        /// The image file or block device.
        public var path: String
        public var format: Format
        /// Opened read-only whatever the disk says (a cloud-init ISO, a shared base image).
        public var readonly: Bool
        /// Whether the file system under `path` accepts `O_DIRECT`; `nil` when the agent did not check.
        /// Decides the cache mode of a disk that sets none (KubeVirt's rule: `none` when direct I/O works,
        /// else `writethrough`) and refuses `cache: none` where direct I/O is known not to work.
        public var directIO: Bool?
        /// `path` is a block device (a `Block` PersistentVolume): opened with `driver=host_device`.
        public var blockDevice: Bool

        public init(path: String, format: Format, readonly: Bool = false, directIO: Bool? = nil, blockDevice: Bool = false) {
            self.path = path
            self.format = format
            self.readonly = readonly
            self.directIO = directIO
            self.blockDevice = blockDevice
        }

        enum CodingKeys: String, CodingKey { case path, format, readonly, directIO, blockDevice }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            format = try c.decode(Format.self, forKey: .format)
            readonly = try c.decodeIfPresent(Bool.self, forKey: .readonly) ?? false
            directIO = try c.decodeIfPresent(Bool.self, forKey: .directIO)
            blockDevice = try c.decodeIfPresent(Bool.self, forKey: .blockDevice) ?? false
        }
    }

    /// Where a guest network interface's packets go on the host.
    public enum NetworkBackend: Codable, Sendable, Equatable {
        /// QEMU's user-mode network stack (`-netdev user`): NAT, no setup on the host.
        case user
        /// A tap device the agent created and wired (`-netdev tap,ifname=…`); `mac`: the guest's MAC when
        /// the network decides it (the pod interface's, with a bridge binding) and the VMI names none.
        case tap(device: String, mac: String? = nil)
    }

    /// UEFI firmware files (OVMF) for `firmware.bootloader.efi`.
    public struct EFIFirmware: Codable, Sendable, Equatable {
        /// The read-only firmware code (`OVMF_CODE*.fd`).
        public var codePath: String
        /// This VM's own writable copy of the variable store (`OVMF_VARS*.fd`).
        public var varsPath: String
        /// Whether `codePath` is a Secure Boot build (and `varsPath` has the keys enrolled).
        public var secureBoot: Bool

        public init(codePath: String, varsPath: String, secureBoot: Bool) {
            self.codePath = codePath
            self.varsPath = varsPath
            self.secureBoot = secureBoot
        }
    }

    /// The QEMU binary, as a name on PATH or an absolute path.
    public var executable: String
    public var accelerator: Accelerator
    /// The machine's stable identity, a UUID: the SMBIOS UUID when `firmware.uuid` is not set, and the
    /// seed of generated MAC addresses. The node agent passes the VM's firmware UUID, which stays the same
    /// across the VM's restarts (a VMI's `metadata.uid` does not).
    public var vmiUID: String
    /// QEMU listens for QMP here.
    public var qmpSocketPath: String
    /// QEMU listens here with the first serial port (needed unless `autoattachSerialConsole` is false).
    public var serialSocketPath: String?
    /// QEMU appends everything the serial port prints to this file (when `logSerialConsole` is not false).
    public var serialLogPath: String?
    /// QEMU serves VNC here (needed unless `autoattachGraphicsDevice` is false).
    public var vncSocketPath: String?
    /// Disk name → its prepared image. Every disk of the spec needs one.
    public var disks: [String: PreparedDisk]
    /// The kernel and initrd extracted for `firmware.kernelBoot`.
    public var kernelPath: String?
    public var initrdPath: String?
    /// Interface name → backend. An interface missing here uses `.user`.
    public var interfaces: [String: NetworkBackend]
    /// UEFI firmware on this node, when there is one.
    public var efi: EFIFirmware?
    /// Start with the CPUs stopped (`-S`): the agent sends `cont` when it is ready.
    public var startPaused: Bool
    /// Wait for an incoming migration (`-incoming defer`) instead of booting.
    public var incoming: Bool

    public init(
        accelerator: Accelerator,
        vmiUID: String,
        qmpSocketPath: String,
        serialSocketPath: String? = nil,
        serialLogPath: String? = nil,
        vncSocketPath: String? = nil,
        disks: [String: PreparedDisk] = [:],
        kernelPath: String? = nil,
        initrdPath: String? = nil,
        interfaces: [String: NetworkBackend] = [:],
        efi: EFIFirmware? = nil,
        startPaused: Bool = false,
        incoming: Bool = false,
        executable: String = "qemu-system-x86_64"
    ) {
        self.executable = executable
        self.accelerator = accelerator
        self.vmiUID = vmiUID
        self.qmpSocketPath = qmpSocketPath
        self.serialSocketPath = serialSocketPath
        self.serialLogPath = serialLogPath
        self.vncSocketPath = vncSocketPath
        self.disks = disks
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
        self.interfaces = interfaces
        self.efi = efi
        self.startPaused = startPaused
        self.incoming = incoming
    }

    enum CodingKeys: String, CodingKey {
        case executable, accelerator, vmiUID, qmpSocketPath, serialSocketPath, serialLogPath, vncSocketPath
        case disks, kernelPath, initrdPath, interfaces, efi, startPaused, incoming
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        executable = try c.decodeIfPresent(String.self, forKey: .executable) ?? "qemu-system-x86_64"
        accelerator = try c.decode(Accelerator.self, forKey: .accelerator)
        vmiUID = try c.decode(String.self, forKey: .vmiUID)
        qmpSocketPath = try c.decode(String.self, forKey: .qmpSocketPath)
        serialSocketPath = try c.decodeIfPresent(String.self, forKey: .serialSocketPath)
        serialLogPath = try c.decodeIfPresent(String.self, forKey: .serialLogPath)
        vncSocketPath = try c.decodeIfPresent(String.self, forKey: .vncSocketPath)
        disks = try c.decodeIfPresent([String: PreparedDisk].self, forKey: .disks) ?? [:]
        kernelPath = try c.decodeIfPresent(String.self, forKey: .kernelPath)
        initrdPath = try c.decodeIfPresent(String.self, forKey: .initrdPath)
        interfaces = try c.decodeIfPresent([String: NetworkBackend].self, forKey: .interfaces) ?? [:]
        efi = try c.decodeIfPresent(EFIFirmware.self, forKey: .efi)
        startPaused = try c.decodeIfPresent(Bool.self, forKey: .startPaused) ?? false
        incoming = try c.decodeIfPresent(Bool.self, forKey: .incoming) ?? false
    }
}
