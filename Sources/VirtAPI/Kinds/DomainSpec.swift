/// KubeVirt `DomainSpec`: the virtual hardware of a VMI (`spec.domain`).
public struct DomainSpec: Codable, Sendable, Equatable {
    public var resources: DomainResourceRequirements?
    public var cpu: CPU?
    public var memory: Memory?
    public var machine: Machine?
    public var firmware: Firmware?
    /// Clock offset and timers; kept opaque.
    public var clock: JSONValue?
    /// ACPI, APIC, Hyper-V, SMM, KVM features; kept opaque.
    public var features: JSONValue?
    public var devices: Devices
    /// `shared`, `auto` or `supplementalPool`.
    public var ioThreadsPolicy: String?
    /// Supplemental I/O thread pool settings; kept opaque.
    public var ioThreads: JSONValue?
    /// SMBIOS chassis information; kept opaque.
    public var chassis: JSONValue?
    /// SEV / SNP / TDX settings; kept opaque.
    public var launchSecurity: JSONValue?
    /// `Terminate` makes a guest reboot end the VMI.
    public var rebootPolicy: String?

    public init(devices: Devices = Devices()) {
        self.devices = devices
    }
}

/// KubeVirt's domain `resources`: requests and limits plus whether the guest overhead is overcommitted.
public struct DomainResourceRequirements: Codable, Sendable, Equatable {
    public var requests: ResourceList?
    public var limits: ResourceList?
    public var overcommitGuestOverhead: Bool?

    public init(requests: ResourceList? = nil, limits: ResourceList? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

/// KubeVirt `CPU`: guest CPU topology and model (`spec.domain.cpu`).
public struct CPU: Codable, Sendable, Equatable {
    public var cores: UInt32?
    public var sockets: UInt32?
    public var maxSockets: UInt32?
    public var threads: UInt32?
    /// A libvirt CPU model name, `host-model` or `host-passthrough`.
    public var model: String?
    /// `[{name, policy}]`; kept opaque.
    public var features: JSONValue?
    public var dedicatedCpuPlacement: Bool?
    /// NUMA passthrough; kept opaque.
    public var numa: JSONValue?
    public var isolateEmulatorThread: Bool?
    /// Realtime settings; kept opaque.
    public var realtime: JSONValue?

    public init(cores: UInt32? = nil, sockets: UInt32? = nil, threads: UInt32? = nil) {
        self.cores = cores
        self.sockets = sockets
        self.threads = threads
    }
}

/// KubeVirt `Memory`: guest-visible memory (`spec.domain.memory`).
public struct Memory: Codable, Sendable, Equatable {
    /// Hugepage backing (`pageSize`); kept opaque.
    public var hugepages: JSONValue?
    /// The memory the guest sees; defaults to the memory request.
    public var guest: Quantity?
    /// The most memory that may be hot-plugged.
    public var maxGuest: Quantity?
    /// Extra overhead reservation; kept opaque.
    public var reservedOverhead: JSONValue?

    public init(guest: Quantity? = nil) { self.guest = guest }
}

/// KubeVirt `Machine`: the emulated machine type (`q35`, `pc-q35-rhel9.4.0`, …).
public struct Machine: Codable, Sendable, Equatable {
    public var type: String?

    public init(type: String? = nil) { self.type = type }
}

/// KubeVirt `Firmware`: boot firmware and direct kernel boot.
public struct Firmware: Codable, Sendable, Equatable {
    /// The SMBIOS system UUID.
    public var uuid: String?
    public var bootloader: Bootloader?
    /// The SMBIOS system serial number.
    public var serial: String?
    public var kernelBoot: KernelBoot?
    /// ACPI table references; kept opaque.
    public var acpi: JSONValue?

    public init() {}
}

/// KubeVirt `Bootloader`: BIOS or EFI.
public struct Bootloader: Codable, Sendable, Equatable {
    public var bios: BIOS?
    public var efi: EFI?

    public init(bios: BIOS? = nil, efi: EFI? = nil) {
        self.bios = bios
        self.efi = efi
    }
}

/// KubeVirt `BIOS` bootloader options.
public struct BIOS: Codable, Sendable, Equatable {
    /// Show BIOS output on the serial console.
    public var useSerial: Bool?

    public init(useSerial: Bool? = nil) { self.useSerial = useSerial }
}

/// KubeVirt `EFI` bootloader options.
public struct EFI: Codable, Sendable, Equatable {
    public var secureBoot: Bool?
    /// Keep EFI variables across restarts.
    public var persistent: Bool?

    public init(secureBoot: Bool? = nil, persistent: Bool? = nil) {
        self.secureBoot = secureBoot
        self.persistent = persistent
    }
}

/// KubeVirt `KernelBoot`: boot a kernel and initrd taken from a container image.
public struct KernelBoot: Codable, Sendable, Equatable {
    public var kernelArgs: String?
    public var container: KernelBootContainer?

    public init(kernelArgs: String? = nil, container: KernelBootContainer? = nil) {
        self.kernelArgs = kernelArgs
        self.container = container
    }
}

/// KubeVirt `KernelBootContainer`: where the kernel and initrd live.
public struct KernelBootContainer: Codable, Sendable, Equatable {
    public var image: String?
    public var imagePullSecret: String?
    public var imagePullPolicy: String?
    public var kernelPath: String?
    public var initrdPath: String?

    public init(image: String? = nil, kernelPath: String? = nil, initrdPath: String? = nil) {
        self.image = image
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
    }
}

extension DomainSpec: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        resources = try object.optional("resources")
        cpu = try object.optional("cpu")
        memory = try object.optional("memory")
        machine = try object.optional("machine")
        firmware = try object.optional("firmware")
        clock = try object.optional("clock")
        features = try object.optional("features")
        devices = try object.required("devices")
        ioThreadsPolicy = try object.optional("ioThreadsPolicy")
        ioThreads = try object.optional("ioThreads")
        chassis = try object.optional("chassis")
        launchSecurity = try object.optional("launchSecurity")
        rebootPolicy = try object.optional("rebootPolicy")
    }
}

extension DomainResourceRequirements: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        requests = try object.optional("requests")
        limits = try object.optional("limits")
        overcommitGuestOverhead = try object.optional("overcommitGuestOverhead")
    }
}

extension CPU: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        cores = try object.optional("cores")
        sockets = try object.optional("sockets")
        maxSockets = try object.optional("maxSockets")
        threads = try object.optional("threads")
        model = try object.optional("model")
        features = try object.optional("features")
        dedicatedCpuPlacement = try object.optional("dedicatedCpuPlacement")
        numa = try object.optional("numa")
        isolateEmulatorThread = try object.optional("isolateEmulatorThread")
        realtime = try object.optional("realtime")
    }
}

extension Memory: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        hugepages = try object.optional("hugepages")
        guest = try object.optional("guest")
        maxGuest = try object.optional("maxGuest")
        reservedOverhead = try object.optional("reservedOverhead")
    }
}

extension Machine: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        type = try object.optional("type")
    }
}

extension Firmware: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        uuid = try object.optional("uuid")
        bootloader = try object.optional("bootloader")
        serial = try object.optional("serial")
        kernelBoot = try object.optional("kernelBoot")
        acpi = try object.optional("acpi")
    }
}

extension Bootloader: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        bios = try object.optional("bios")
        efi = try object.optional("efi")
    }
}

extension BIOS: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        useSerial = try object.optional("useSerial")
    }
}

extension EFI: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        secureBoot = try object.optional("secureBoot")
        persistent = try object.optional("persistent")
    }
}

extension KernelBoot: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        kernelArgs = try object.optional("kernelArgs")
        container = try object.optional("container")
    }
}

extension KernelBootContainer: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        image = try object.optional("image")
        imagePullSecret = try object.optional("imagePullSecret")
        imagePullPolicy = try object.optional("imagePullPolicy")
        kernelPath = try object.optional("kernelPath")
        initrdPath = try object.optional("initrdPath")
    }
}
