/// KubeVirt `Devices`: disks, network interfaces and the other devices of a VMI (`spec.domain.devices`).
public struct Devices: Codable, Sendable, Equatable {
    public var useVirtioTransitional: Bool?
    public var disableHotplug: Bool?
    public var disks: [Disk]?
    /// `{name, i6300esb|diag288}`; kept opaque.
    public var watchdog: JSONValue?
    public var interfaces: [Interface]?
    /// Tablets and keyboards; kept opaque.
    public var inputs: [JSONValue]?
    public var autoattachPodInterface: Bool?
    public var autoattachGraphicsDevice: Bool?
    public var autoattachSerialConsole: Bool?
    public var logSerialConsole: Bool?
    public var autoattachMemBalloon: Bool?
    public var autoattachInputDevice: Bool?
    public var autoattachVSOCK: Bool?
    /// `rng: {}` adds a virtio RNG; kept opaque.
    public var rng: JSONValue?
    public var blockMultiQueue: Bool?
    public var networkInterfaceMultiqueue: Bool?
    /// GPU passthrough; kept opaque.
    public var gpus: [JSONValue]?
    /// Downward metrics virtio-serial device; kept opaque.
    public var downwardMetrics: JSONValue?
    /// Panic devices; kept opaque.
    public var panicDevices: [JSONValue]?
    /// virtiofs shares; kept opaque.
    public var filesystems: [JSONValue]?
    /// Host device passthrough; kept opaque.
    public var hostDevices: [JSONValue]?
    /// USB client passthrough; kept opaque.
    public var clientPassthrough: JSONValue?
    /// Sound device; kept opaque.
    public var sound: JSONValue?
    /// Emulated TPM; kept opaque.
    public var tpm: JSONValue?
    /// Video device type; kept opaque.
    public var video: JSONValue?

    public init(disks: [Disk]? = nil, interfaces: [Interface]? = nil) {
        self.disks = disks
        self.interfaces = interfaces
    }
}

extension Devices: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        useVirtioTransitional = try object.optional("useVirtioTransitional")
        disableHotplug = try object.optional("disableHotplug")
        disks = try object.optional("disks")
        watchdog = try object.optional("watchdog")
        interfaces = try object.optional("interfaces")
        inputs = try object.optional("inputs")
        autoattachPodInterface = try object.optional("autoattachPodInterface")
        autoattachGraphicsDevice = try object.optional("autoattachGraphicsDevice")
        autoattachSerialConsole = try object.optional("autoattachSerialConsole")
        logSerialConsole = try object.optional("logSerialConsole")
        autoattachMemBalloon = try object.optional("autoattachMemBalloon")
        autoattachInputDevice = try object.optional("autoattachInputDevice")
        autoattachVSOCK = try object.optional("autoattachVSOCK")
        rng = try object.optional("rng")
        blockMultiQueue = try object.optional("blockMultiQueue")
        networkInterfaceMultiqueue = try object.optional("networkInterfaceMultiqueue")
        gpus = try object.optional("gpus")
        downwardMetrics = try object.optional("downwardMetrics")
        panicDevices = try object.optional("panicDevices")
        filesystems = try object.optional("filesystems")
        hostDevices = try object.optional("hostDevices")
        clientPassthrough = try object.optional("clientPassthrough")
        sound = try object.optional("sound")
        tpm = try object.optional("tpm")
        video = try object.optional("video")
    }
}
