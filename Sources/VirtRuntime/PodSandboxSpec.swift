/// Everything the node agent decides about one pod's sandbox, before it becomes an OCI `config.json`
/// (`ociConfiguration(bundle:host:)`): the process, its limits, namespaces, mounts and devices.
///
/// What runs is a parameter (`process`): the sandbox knows nothing about QEMU.
public struct PodSandboxSpec: Sendable, Equatable {
    /// Where the pod's state directory (`OCIBundle.statePath`, read-write) appears inside the sandbox.
    /// QEMU's QMP socket, logs, disk overlays and cloud-init ISOs live there.
    public static let stateMountPath = "/var/run/swiftvirt/pod"

    /// What the sandbox runs, as its init (pid 1 in its pid namespace).
    public struct Process: Sendable, Equatable {
        /// `args[0]` is an absolute path or a name found on the spec's PATH.
        public var arguments: [String]
        /// `NAME=value` entries. PATH is added when missing.
        public var environment: [String]
        public var workingDirectory: String

        public init(arguments: [String], environment: [String] = [], workingDirectory: String = "/") {
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
        }
    }

    /// cgroup limits. `nil` leaves a resource unlimited.
    public struct Resources: Sendable, Equatable {
        /// Hard memory limit (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`).
        public var memoryLimitBytes: Int64?
        /// CPU limit in millicores: a CFS quota of `millicores × period / 1000` per period.
        public var cpuLimitMillicores: Int64?
        /// CPU request in millicores: a relative weight (`cpu.shares = millicores × 1024 / 1000`).
        public var cpuRequestMillicores: Int64?
        /// Maximum number of tasks (threads count: QEMU has several per vCPU and per I/O thread).
        public var pidsLimit: Int64?
        /// The CFS period in microseconds.
        public var cpuPeriodMicroseconds: Int64

        public init(memoryLimitBytes: Int64? = nil, cpuLimitMillicores: Int64? = nil, cpuRequestMillicores: Int64? = nil,
                    pidsLimit: Int64? = nil, cpuPeriodMicroseconds: Int64 = 100_000) {
            self.memoryLimitBytes = memoryLimitBytes
            self.cpuLimitMillicores = cpuLimitMillicores
            self.cpuRequestMillicores = cpuRequestMillicores
            self.pidsLimit = pidsLimit
            self.cpuPeriodMicroseconds = cpuPeriodMicroseconds
        }
    }

    /// The sandbox's network namespace.
    public enum NetworkNamespace: Sendable, Equatable {
        /// A new, empty one (only `lo`, down) that dies with the sandbox.
        case new
        /// An existing one, e.g. `/var/run/netns/NAME` made and wired by CNI before the sandbox starts.
        case path(String)
        /// The node's own, as a host-network pod has: a program that must reach servers on the node's
        /// network, loopback included (the importer), and configures none of it.
        case host
    }

    /// A host file or directory bind-mounted into the sandbox (disks, guest images, sockets).
    public struct BindMount: Sendable, Equatable {
        public var source: String
        public var destination: String
        public var readOnly: Bool

        public init(source: String, destination: String, readOnly: Bool) {
            self.source = source
            self.destination = destination
            self.readOnly = readOnly
        }
    }

    /// Capabilities the sandbox's process keeps (bounding, permitted, effective and ambient sets);
    /// everything else is dropped, and `noNewPrivileges` stops it regaining any:
    /// - `CAP_NET_ADMIN`: create and configure tap devices and bridges inside the pod's own network
    ///   namespace (QEMU's `-netdev tap`), the way KubeVirt's virt-launcher does;
    /// - `CAP_NET_BIND_SERVICE`: let user-mode networking forward guest ports below 1024;
    /// - `CAP_SYS_NICE`: let QEMU raise the scheduling priority of vCPU and I/O threads and pin them.
    /// Not granted: `CAP_SYS_ADMIN`, `CAP_DAC_OVERRIDE` (the process runs as uid 0, owner of the files
    /// the agent prepares), `CAP_SYS_RESOURCE` (rlimits are set in the spec instead), `CAP_SYS_PTRACE`.
    public static let defaultCapabilities = ["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_SYS_NICE"]

    /// Host devices passed in when they exist: KVM, tap devices, vhost-net.
    public static let defaultDevices = ["/dev/kvm", "/dev/net/tun", "/dev/vhost-net"]

    /// Annotation keys that carry the pod's identity (runc reports annotations in `state` and `list`,
    /// which is how a restarted agent maps containers back to pods).
    public static let podNameAnnotation = "io.kubernetes.pod.name"
    public static let podNamespaceAnnotation = "io.kubernetes.pod.namespace"
    public static let podUIDAnnotation = "io.kubernetes.pod.uid"

    /// The runc container id, unique per node.
    public var id: String
    /// The sandbox's hostname (the pod's name, or `spec.hostname`).
    public var hostname: String
    public var process: Process
    public var resources: Resources
    public var networkNamespace: NetworkNamespace
    /// Extra bind mounts, mounted after the system ones in this order.
    public var mounts: [BindMount]
    /// Host device nodes to pass in (those missing on the host are skipped).
    public var devices: [String]
    public var capabilities: [String]
    /// The cgroup, relative to the cgroup root (e.g. `/swiftvirt/ID`); `nil` lets `PodSandbox` choose.
    public var cgroupsPath: String?
    /// `config.json` annotations.
    public var annotations: [String: String]
    /// `RLIMIT_NOFILE`, soft and hard (QEMU holds a descriptor per disk, tap queue, socket and vhost
    /// ring). `nil` inherits the agent's; `PodSandbox.prepare` sets it to the agent's hard limit, which
    /// needs no privilege (raising a hard limit needs `CAP_SYS_RESOURCE`, which the agent may lack).
    public var openFilesLimit: Int64?

    public init(id: String, hostname: String, process: Process, resources: Resources = .init(),
                networkNamespace: NetworkNamespace = .new, mounts: [BindMount] = [],
                devices: [String] = PodSandboxSpec.defaultDevices, capabilities: [String] = PodSandboxSpec.defaultCapabilities,
                cgroupsPath: String? = nil, annotations: [String: String] = [:], openFilesLimit: Int64? = nil) {
        self.id = id
        self.hostname = hostname
        self.process = process
        self.resources = resources
        self.networkNamespace = networkNamespace
        self.mounts = mounts
        self.devices = devices
        self.capabilities = capabilities
        self.cgroupsPath = cgroupsPath
        self.annotations = annotations
        self.openFilesLimit = openFilesLimit
    }
}
