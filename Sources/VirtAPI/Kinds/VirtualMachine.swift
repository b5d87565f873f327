/// kubevirt.io/v1 `VirtualMachine`: a VM definition whose run strategy decides when a VMI exists.
public struct VirtualMachine: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: VirtualMachineSpec
    public var status: VirtualMachineStatus?

    public init(metadata: ObjectMeta? = nil, spec: VirtualMachineSpec) {
        self.apiVersion = "kubevirt.io/v1"
        self.kind = "VirtualMachine"
        self.metadata = metadata
        self.spec = spec
    }
}

/// KubeVirt `VirtualMachineSpec`.
public struct VirtualMachineSpec: Codable, Sendable, Equatable {
    /// Deprecated in favour of `runStrategy`; the two are mutually exclusive.
    public var running: Bool?
    /// `Always`, `RerunOnFailure`, `Manual`, `Halted`, `Once` or `WaitAsReceiver`.
    public var runStrategy: String?
    /// Instance type matcher; kept opaque.
    public var instancetype: JSONValue?
    /// Preference matcher; kept opaque.
    public var preference: JSONValue?
    /// The VMI to create; required.
    public var template: VirtualMachineInstanceTemplateSpec?
    /// DataVolumes created with the VM; kept opaque.
    public var dataVolumeTemplates: [JSONValue]?
    public var updateVolumesStrategy: String?

    public init(runStrategy: String? = nil, template: VirtualMachineInstanceTemplateSpec? = nil) {
        self.runStrategy = runStrategy
        self.template = template
    }

    /// The effective run strategy (`running: true` means `Always`, absent means `Halted`).
    public var effectiveRunStrategy: String {
        if let runStrategy { return runStrategy }
        return running == true ? "Always" : "Halted"
    }
}

/// KubeVirt `VirtualMachineInstanceTemplateSpec`: metadata and spec of the VMI a VM creates.
public struct VirtualMachineInstanceTemplateSpec: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta?
    public var spec: VirtualMachineInstanceSpec?

    public init(metadata: ObjectMeta? = nil, spec: VirtualMachineInstanceSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// KubeVirt `VirtualMachineStatus`.
public struct VirtualMachineStatus: Codable, Sendable, Equatable {
    public var snapshotInProgress: String?
    public var restoreInProgress: String?
    public var created: Bool?
    public var ready: Bool?
    /// `Stopped`, `Provisioning`, `Starting`, `Running`, `Paused`, `Stopping`, `Terminating`, `Migrating`,
    /// `Unknown`, `ErrorUnschedulable`, `ErrImagePull`, `CrashLoopBackOff`, …
    public var printableStatus: String?
    public var conditions: [Condition]?
    public var stateChangeRequests: [VirtualMachineStateChangeRequest]?
    /// Pending hotplug requests; kept opaque.
    public var volumeRequests: [JSONValue]?
    public var volumeSnapshotStatuses: [JSONValue]?
    public var startFailure: VirtualMachineStartFailure?
    public var memoryDumpRequest: JSONValue?
    public var observedGeneration: Int64?
    public var desiredGeneration: Int64?
    public var runStrategy: String?
    public var volumeUpdateState: JSONValue?
    public var changedBlockTracking: JSONValue?
    public var instancetypeRef: JSONValue?
    public var preferenceRef: JSONValue?

    public init() {}
}

/// KubeVirt `VirtualMachineStateChangeRequest`: a pending `Start` or `Stop`.
public struct VirtualMachineStateChangeRequest: Codable, Sendable, Equatable {
    /// `Start` or `Stop`.
    public var action: String
    public var data: [String: String]?
    public var uid: String?

    public init(action: String, uid: String? = nil) {
        self.action = action
        self.uid = uid
    }
}

/// KubeVirt `VirtualMachineStartFailure`: crash-loop back-off bookkeeping.
public struct VirtualMachineStartFailure: Codable, Sendable, Equatable {
    public var consecutiveFailCount: Int?
    public var lastFailedVMIUID: String?
    public var retryAfterTimestamp: String?

    public init() {}
}

extension VirtualMachine: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        apiVersion = try object.optional("apiVersion")
        kind = try object.optional("kind")
        metadata = try object.optional("metadata")
        spec = try object.required("spec")
        status = try object.optional("status")
    }
}

extension VirtualMachineSpec: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        running = try object.optional("running")
        runStrategy = try object.optional("runStrategy")
        instancetype = try object.optional("instancetype")
        preference = try object.optional("preference")
        template = try object.optional("template")
        dataVolumeTemplates = try object.optional("dataVolumeTemplates")
        updateVolumesStrategy = try object.optional("updateVolumesStrategy")
    }
}

extension VirtualMachineInstanceTemplateSpec: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        metadata = try object.optional("metadata")
        spec = try object.optional("spec")
    }
}

extension VirtualMachineStatus: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        snapshotInProgress = try object.optional("snapshotInProgress")
        restoreInProgress = try object.optional("restoreInProgress")
        created = try object.optional("created")
        ready = try object.optional("ready")
        printableStatus = try object.optional("printableStatus")
        conditions = try object.optional("conditions")
        stateChangeRequests = try object.optional("stateChangeRequests")
        volumeRequests = try object.optional("volumeRequests")
        volumeSnapshotStatuses = try object.optional("volumeSnapshotStatuses")
        startFailure = try object.optional("startFailure")
        memoryDumpRequest = try object.optional("memoryDumpRequest")
        observedGeneration = try object.optional("observedGeneration")
        desiredGeneration = try object.optional("desiredGeneration")
        runStrategy = try object.optional("runStrategy")
        volumeUpdateState = try object.optional("volumeUpdateState")
        changedBlockTracking = try object.optional("changedBlockTracking")
        instancetypeRef = try object.optional("instancetypeRef")
        preferenceRef = try object.optional("preferenceRef")
    }
}

extension VirtualMachineStateChangeRequest: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        action = try object.required("action")
        data = try object.optional("data")
        uid = try object.optional("uid")
    }
}

extension VirtualMachineStartFailure: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        consecutiveFailCount = try object.optional("consecutiveFailCount")
        lastFailedVMIUID = try object.optional("lastFailedVMIUID")
        retryAfterTimestamp = try object.optional("retryAfterTimestamp")
    }
}
