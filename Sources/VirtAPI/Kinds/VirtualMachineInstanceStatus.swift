/// KubeVirt `VirtualMachineInstanceStatus`: what the controllers and the node agent observed.
public struct VirtualMachineInstanceStatus: Codable, Sendable, Equatable {
    public var nodeName: String?
    public var reason: String?
    public var conditions: [Condition]?
    /// `Pending`, `Scheduling`, `Scheduled`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String?
    public var phaseTransitionTimestamps: [PhaseTransitionTimestamp]?
    public var interfaces: [VirtualMachineInstanceNetworkInterface]?
    /// What the guest agent reports about the guest OS; kept opaque.
    public var guestOSInfo: JSONValue?
    /// Progress of the current or last migration; kept opaque.
    public var migrationState: JSONValue?
    /// `BlockMigration` or `LiveMigration`.
    public var migrationMethod: String?
    public var migrationTransport: String?
    /// `Guaranteed`, `Burstable` or `BestEffort`.
    public var qosClass: String?
    public var launcherContainerImageVersion: String?
    public var evacuationNodeName: String?
    /// Launcher pod UID to node name.
    public var activePods: [String: String]?
    /// Per-volume state; kept opaque.
    public var volumeStatus: [JSONValue]?
    public var kernelBootStatus: JSONValue?
    public var fsFreezeStatus: String?
    public var topologyHints: JSONValue?
    public var virtualMachineRevisionName: String?
    public var runtimeUser: UInt64?
    public var VSOCKCID: UInt32?
    public var selinuxContext: String?
    public var machine: Machine?
    public var currentCPUTopology: JSONValue?
    public var memory: JSONValue?
    public var migratedVolumes: [JSONValue]?
    public var changedBlockTracking: JSONValue?

    public init() {}
}

/// When an object entered a phase (VMIs and migrations).
public struct PhaseTransitionTimestamp: Codable, Sendable, Equatable {
    public var phase: String?
    public var phaseTransitionTimestamp: String?

    public init(phase: String? = nil, phaseTransitionTimestamp: String? = nil) {
        self.phase = phase
        self.phaseTransitionTimestamp = phaseTransitionTimestamp
    }
}

/// KubeVirt `VirtualMachineInstanceNetworkInterface`: an interface as seen on the running VMI.
public struct VirtualMachineInstanceNetworkInterface: Codable, Sendable, Equatable {
    public var name: String?
    public var ipAddress: String?
    public var ipAddresses: [String]?
    public var mac: String?
    public var podInterfaceName: String?
    public var interfaceName: String?
    /// `domain`, `guest-agent`, `multus-status`, comma-separated.
    public var infoSource: String?
    public var queueCount: Int32?
    public var linkState: String?

    public init(name: String? = nil) { self.name = name }
}
