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

extension VirtualMachineInstanceStatus: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        nodeName = try object.optional("nodeName")
        reason = try object.optional("reason")
        conditions = try object.optional("conditions")
        phase = try object.optional("phase")
        phaseTransitionTimestamps = try object.optional("phaseTransitionTimestamps")
        interfaces = try object.optional("interfaces")
        guestOSInfo = try object.optional("guestOSInfo")
        migrationState = try object.optional("migrationState")
        migrationMethod = try object.optional("migrationMethod")
        migrationTransport = try object.optional("migrationTransport")
        qosClass = try object.optional("qosClass")
        launcherContainerImageVersion = try object.optional("launcherContainerImageVersion")
        evacuationNodeName = try object.optional("evacuationNodeName")
        activePods = try object.optional("activePods")
        volumeStatus = try object.optional("volumeStatus")
        kernelBootStatus = try object.optional("kernelBootStatus")
        fsFreezeStatus = try object.optional("fsFreezeStatus")
        topologyHints = try object.optional("topologyHints")
        virtualMachineRevisionName = try object.optional("virtualMachineRevisionName")
        runtimeUser = try object.optional("runtimeUser")
        VSOCKCID = try object.optional("VSOCKCID")
        selinuxContext = try object.optional("selinuxContext")
        machine = try object.optional("machine")
        currentCPUTopology = try object.optional("currentCPUTopology")
        memory = try object.optional("memory")
        migratedVolumes = try object.optional("migratedVolumes")
        changedBlockTracking = try object.optional("changedBlockTracking")
    }
}

extension PhaseTransitionTimestamp: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        phase = try object.optional("phase")
        phaseTransitionTimestamp = try object.optional("phaseTransitionTimestamp")
    }
}

extension VirtualMachineInstanceNetworkInterface: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.optional("name")
        ipAddress = try object.optional("ipAddress")
        ipAddresses = try object.optional("ipAddresses")
        mac = try object.optional("mac")
        podInterfaceName = try object.optional("podInterfaceName")
        interfaceName = try object.optional("interfaceName")
        infoSource = try object.optional("infoSource")
        queueCount = try object.optional("queueCount")
        linkState = try object.optional("linkState")
    }
}
