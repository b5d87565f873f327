/// KubeVirt `Disk`: how a volume appears in the guest (`spec.domain.devices.disks[]`).
/// At most one of `disk`, `cdrom` and `lun` is set; the disk's `name` matches a volume's.
public struct Disk: Codable, Sendable, Equatable {
    public var name: String
    public var disk: DiskTarget?
    public var lun: LunTarget?
    public var cdrom: CDRomTarget?
    /// Boot priority, 1 first; devices without one are not booted from.
    public var bootOrder: UInt?
    public var serial: String?
    public var dedicatedIOThread: Bool?
    /// `none`, `writethrough` or `writeback`.
    public var cache: String?
    /// `native`, `threads` or `default`.
    public var io: String?
    public var tag: String?
    /// Logical/physical block sizes; kept opaque.
    public var blockSize: JSONValue?
    public var shareable: Bool?
    /// `stop`, `ignore`, `report` or `enospace`.
    public var errorPolicy: String?
    public var changedBlockTracking: Bool?

    public init(name: String, disk: DiskTarget? = nil, cdrom: CDRomTarget? = nil, lun: LunTarget? = nil) {
        self.name = name
        self.disk = disk
        self.cdrom = cdrom
        self.lun = lun
    }
}

/// KubeVirt `DiskTarget`: a plain disk.
public struct DiskTarget: Codable, Sendable, Equatable {
    /// `virtio`, `sata`, `scsi` or `usb`.
    public var bus: String?
    public var readonly: Bool?
    public var pciAddress: String?

    public init(bus: String? = nil, readonly: Bool? = nil) {
        self.bus = bus
        self.readonly = readonly
    }
}

/// KubeVirt `CDRomTarget`: a CD-ROM drive.
public struct CDRomTarget: Codable, Sendable, Equatable {
    /// `sata` or `scsi`.
    public var bus: String?
    /// Defaults to true.
    public var readonly: Bool?
    /// `open` or `closed`.
    public var tray: String?

    public init(bus: String? = nil) { self.bus = bus }
}

/// KubeVirt `LunTarget`: a SCSI LUN passed through.
public struct LunTarget: Codable, Sendable, Equatable {
    public var bus: String?
    public var readonly: Bool?
    public var reservation: Bool?

    public init(bus: String? = nil) { self.bus = bus }
}

extension Disk: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.required("name")
        disk = try object.optional("disk")
        lun = try object.optional("lun")
        cdrom = try object.optional("cdrom")
        bootOrder = try object.optional("bootOrder")
        serial = try object.optional("serial")
        dedicatedIOThread = try object.optional("dedicatedIOThread")
        cache = try object.optional("cache")
        io = try object.optional("io")
        tag = try object.optional("tag")
        blockSize = try object.optional("blockSize")
        shareable = try object.optional("shareable")
        errorPolicy = try object.optional("errorPolicy")
        changedBlockTracking = try object.optional("changedBlockTracking")
    }
}

extension DiskTarget: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        bus = try object.optional("bus")
        readonly = try object.optional("readonly")
        pciAddress = try object.optional("pciAddress")
    }
}

extension CDRomTarget: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        bus = try object.optional("bus")
        readonly = try object.optional("readonly")
        tray = try object.optional("tray")
    }
}

extension LunTarget: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        bus = try object.optional("bus")
        readonly = try object.optional("readonly")
        reservation = try object.optional("reservation")
    }
}
