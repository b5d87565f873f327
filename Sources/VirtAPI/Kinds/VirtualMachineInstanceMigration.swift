/// kubevirt.io/v1 `VirtualMachineInstanceMigration`: a request to live-migrate one VMI.
public struct VirtualMachineInstanceMigration: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: VirtualMachineInstanceMigrationSpec
    public var status: VirtualMachineInstanceMigrationStatus?

    public init(metadata: ObjectMeta? = nil, spec: VirtualMachineInstanceMigrationSpec) {
        self.apiVersion = "kubevirt.io/v1"
        self.kind = "VirtualMachineInstanceMigration"
        self.metadata = metadata
        self.spec = spec
    }
}

/// KubeVirt `VirtualMachineInstanceMigrationSpec`.
public struct VirtualMachineInstanceMigrationSpec: Codable, Sendable, Equatable {
    /// The VMI to migrate, in the migration's namespace; required.
    public var vmiName: String?
    /// Extra node selector terms for the target.
    public var addedNodeSelector: [String: String]?
    /// Cross-cluster migration source/target; kept opaque.
    public var sendTo: JSONValue?
    public var receive: JSONValue?
    public var priority: String?

    public init(vmiName: String? = nil) { self.vmiName = vmiName }
}

/// KubeVirt `VirtualMachineInstanceMigrationStatus`.
public struct VirtualMachineInstanceMigrationStatus: Codable, Sendable, Equatable {
    /// `Pending`, `Scheduling`, `Scheduled`, `PreparingTarget`, `TargetReady`, `Running`, `Succeeded`, `Failed`.
    public var phase: String?
    public var conditions: [Condition]?
    public var phaseTransitionTimestamps: [PhaseTransitionTimestamp]?
    /// Progress; kept opaque (same shape as the VMI's `status.migrationState`).
    public var migrationState: JSONValue?
    public var synchronizationAddresses: [String]?

    public init() {}
}

extension VirtualMachineInstanceMigration: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        apiVersion = try object.optional("apiVersion")
        kind = try object.optional("kind")
        metadata = try object.optional("metadata")
        spec = try object.required("spec")
        status = try object.optional("status")
    }
}

extension VirtualMachineInstanceMigrationSpec: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        vmiName = try object.optional("vmiName")
        addedNodeSelector = try object.optional("addedNodeSelector")
        sendTo = try object.optional("sendTo")
        receive = try object.optional("receive")
        priority = try object.optional("priority")
    }
}

extension VirtualMachineInstanceMigrationStatus: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        phase = try object.optional("phase")
        conditions = try object.optional("conditions")
        phaseTransitionTimestamps = try object.optional("phaseTransitionTimestamps")
        migrationState = try object.optional("migrationState")
        synchronizationAddresses = try object.optional("synchronizationAddresses")
    }
}
