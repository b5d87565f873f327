/// A container as `runc state` and `runc list` report it.
public struct ContainerState: Codable, Sendable, Equatable {
    /// runc's container status.
    public enum Status: String, Codable, Sendable {
        /// `runc create` is still setting it up.
        case creating
        /// Created, its process waits for `runc start`.
        case created
        case running
        /// Frozen by `runc pause`.
        case paused
        /// Its process has exited; `runc delete` removes what is left.
        case stopped
    }

    public var id: String
    /// The container's init process on the host; 0 once stopped.
    public var pid: Int32
    public var status: Status
    /// The bundle directory it was created from.
    public var bundle: String
    public var rootfs: String?
    /// RFC 3339 creation time.
    public var created: String?
    /// The annotations of its `config.json` (runc reports them; SwiftVirt puts the pod's identity there).
    public var annotations: [String: String]?

    public init(id: String, pid: Int32, status: Status, bundle: String, rootfs: String? = nil, created: String? = nil, annotations: [String: String]? = nil) {
        self.id = id
        self.pid = pid
        self.status = status
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.annotations = annotations
    }

    /// Whether its process is alive (running or paused).
    public var isAlive: Bool { status == .running || status == .paused }
}
