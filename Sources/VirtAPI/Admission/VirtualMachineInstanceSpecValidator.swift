import VirtError

/// KubeVirt's VMI spec rules for the common cases, shared by a VMI's `spec` and a VirtualMachine's template.
///
/// `prefix` is the path of the spec from the object root: `spec` for a VMI, `spec.template.spec` for a VM.
/// A few rules hold only for a VMI (`Role.instance`), because what a VM's template leaves out may still be
/// filled in before its VMI is created (an instance type's memory) or is only checked on the VMI:
/// the guest must have memory, and every volume must be shown by a disk (or a file system).
struct VirtualMachineInstanceSpecValidator {
    /// What the spec belongs to.
    enum Role {
        /// A VirtualMachineInstance's own spec.
        case instance
        /// A VirtualMachine's `spec.template.spec`, from which VMIs are made.
        case template
    }

    let spec: VirtualMachineInstanceSpec
    let prefix: String
    var role: Role = .instance

    static let diskBuses = ["virtio", "sata", "scsi", "usb"]
    static let cdromBuses = ["sata", "scsi"]
    static let cacheModes = ["none", "writethrough", "writeback"]
    static let hostDiskTypes = ["Disk", "DiskOrCreate"]
    static let evictionStrategies = ["None", "LiveMigrate", "LiveMigrateIfPossible", "External"]
    static let startStrategies = ["Paused"]
    static let interfaceModels = ["virtio", "e1000", "e1000e", "igb", "ne2k_pci", "pcnet", "rtl8139"]
    /// The binding method SwiftVirt runs (the others are refused by `UnsupportedFeatures`).
    static let bindingNames = "masquerade: {} on the pod network"
    /// Bindings KubeVirt no longer accepts, with the release that dropped them.
    static let discontinuedBindings = ["slirp": "v1.3", "macvtap": "v1.3", "passt": "v1.3"]
    /// KubeVirt's smallest memory size.
    static let minimumMemoryBytes: Int64 = 1_000_000

    func field(_ relative: String) -> String { "\(prefix).\(relative)" }

    func validate() -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        causes += validateMemory()
        causes += validateCPU()
        causes += validateFirmware()
        causes += validateDisksAndVolumes()
        causes += validateNetworking()
        causes += validateBootOrder()
        causes += validateScheduling()
        causes += UnsupportedFeatures.causes(in: spec, prefix: prefix)
        return causes
    }

    // MARK: - Memory and CPU

    func validateMemory() -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let domain = spec.domain
        let guest = domain.memory?.guest
        let request = domain.resources?.requests?["memory"]
        let limit = domain.resources?.limits?["memory"]
        let guestField = field("domain.memory.guest")
        let requestField = field("domain.resources.requests.memory")
        let limitField = field("domain.resources.limits.memory")

        // A limit alone becomes the guest's memory when the VMI is defaulted; hugepages give it a page size.
        if role == .instance, guest == nil, request == nil, limit == nil, !UnsupportedFeatures.present(domain.memory?.hugepages) {
            causes.append(FieldErrors.required(
                requestField,
                "no memory requested; set \(guestField) or \(requestField) (for example 1Gi)"))
        }
        for (quantity, path) in [(guest, guestField), (request, requestField), (limit, limitField)] {
            if let quantity, quantity.bytes < Self.minimumMemoryBytes {
                causes.append(FieldErrors.invalid(path, quantity.text, "must be greater than or equal to 1M"))
            }
        }
        if let guest, let limit, guest.bytes > limit.bytes {
            causes.append(FieldErrors.invalid(
                guestField, guest.text, "must be less than or equal to \(limitField) (\(limit.text))"))
        }
        if let request, let limit, request.bytes > limit.bytes {
            causes.append(FieldErrors.invalid(
                requestField, request.text, "must be less than or equal to \(limitField) (\(limit.text))"))
        }
        return causes
    }

    func validateCPU() -> [VirtError.Cause] {
        guard let cpu = spec.domain.cpu else { return [] }
        var causes: [VirtError.Cause] = []
        for (value, name) in [(cpu.cores, "cores"), (cpu.sockets, "sockets"), (cpu.threads, "threads")] {
            if let value, value < 1 {
                causes.append(FieldErrors.invalid(
                    field("domain.cpu.\(name)"), number: Int64(value), "must be greater than or equal to 1 (omit it for the default of 1)"))
            }
        }
        return causes
    }

    func validateFirmware() -> [VirtError.Cause] {
        guard let firmware = spec.domain.firmware else { return [] }
        var causes: [VirtError.Cause] = []
        if let bootloader = firmware.bootloader, bootloader.bios != nil, bootloader.efi != nil {
            causes.append(FieldErrors.invalid(
                field("domain.firmware.bootloader"), "must have only one of bios and efi"))
        }
        if let kernelBoot = firmware.kernelBoot {
            let base = field("domain.firmware.kernelBoot")
            if let container = kernelBoot.container {
                if container.image?.isEmpty ?? true {
                    causes.append(FieldErrors.required("\(base).container.image", "the container image that holds the kernel"))
                }
                if (container.kernelPath?.isEmpty ?? true) && (container.initrdPath?.isEmpty ?? true) {
                    causes.append(FieldErrors.required(
                        "\(base).container", "set kernelPath, initrdPath or both (paths inside the container image)"))
                }
            } else if let args = kernelBoot.kernelArgs, !args.isEmpty {
                causes.append(FieldErrors.invalid(
                    "\(base).kernelArgs", args, "kernel arguments need a kernel; set \(base).container too"))
            }
        }
        return causes
    }

    // MARK: - Disks and volumes

    func validateDisksAndVolumes() -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let volumes = spec.volumes ?? []
        let disks = spec.domain.devices.disks ?? []
        let volumesField = field("volumes")

        var volumeIndex: [String: Int] = [:]
        for (i, volume) in volumes.enumerated() {
            let path = "\(volumesField)[\(i)]"
            if volume.name.isEmpty {
                causes.append(FieldErrors.required("\(path).name"))
            } else if let first = volumeIndex[volume.name] {
                causes.append(FieldErrors.duplicate(
                    "\(path).name", volume.name, "\(volumesField)[\(first)] already has this name; volume names must be unique"))
            } else {
                volumeIndex[volume.name] = i
            }
            causes += validateVolumeSource(volume, path: path)
        }

        var diskIndex: [String: Int] = [:]
        let disksField = field("domain.devices.disks")
        for (i, disk) in disks.enumerated() {
            let path = "\(disksField)[\(i)]"
            if disk.name.isEmpty {
                causes.append(FieldErrors.required("\(path).name"))
            } else if let first = diskIndex[disk.name] {
                causes.append(FieldErrors.duplicate(
                    "\(path).name", disk.name, "\(disksField)[\(first)] already has this name; disk names must be unique"))
            } else {
                diskIndex[disk.name] = i
                // A CD-ROM without a volume is an empty drive, into which a volume can be inserted later.
                if volumeIndex[disk.name] == nil, disk.cdrom == nil {
                    causes.append(FieldErrors.invalid(
                        "\(path).name", disk.name,
                        "not found in \(volumesField); add a volume named \"\(disk.name)\", fix the disk name, "
                            + "or make it a cdrom for an empty drive"))
                }
            }
            var targets: [String] = []
            if disk.disk != nil { targets.append("disk") }
            if disk.cdrom != nil { targets.append("cdrom") }
            if disk.lun != nil { targets.append("lun") }
            if targets.count > 1 {
                causes.append(FieldErrors.invalid(
                    path, "must have at most one of disk, cdrom and lun (found \(targets.joined(separator: ", ")))"))
            }
            if let bus = disk.disk?.bus, !Self.diskBuses.contains(bus) {
                causes.append(FieldErrors.notSupported("\(path).disk.bus", bus, Self.diskBuses))
            }
            if let bus = disk.lun?.bus, !Self.diskBuses.contains(bus) {
                causes.append(FieldErrors.notSupported("\(path).lun.bus", bus, Self.diskBuses))
            }
            if let bus = disk.cdrom?.bus, !Self.cdromBuses.contains(bus) {
                causes.append(FieldErrors.notSupported("\(path).cdrom.bus", bus, Self.cdromBuses))
            }
            if let tray = disk.cdrom?.tray, !["open", "closed"].contains(tray) {
                causes.append(FieldErrors.notSupported("\(path).cdrom.tray", tray, ["open", "closed"]))
            }
            if let cache = disk.cache, !Self.cacheModes.contains(cache) {
                causes.append(FieldErrors.notSupported("\(path).cache", cache, Self.cacheModes))
            }
        }

        // On a VMI every volume is shown to the guest: by a disk, or by a file system (a memory dump needs neither).
        if role == .instance {
            let filesystemNames = Set((spec.domain.devices.filesystems ?? []).compactMap { $0["name"]?.stringValue })
            for (i, volume) in volumes.enumerated()
            where !volume.name.isEmpty && diskIndex[volume.name] == nil && !filesystemNames.contains(volume.name)
                && !UnsupportedFeatures.present(volume.memoryDump)
            {
                causes.append(FieldErrors.invalid(
                    "\(volumesField)[\(i)].name", volume.name,
                    "not found in \(disksField); add a disk named \"\(volume.name)\" or remove the volume"))
            }
        }
        return causes
    }

    func validateVolumeSource(_ volume: Volume, path: String) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let sources = volume.sourceTypes
        if sources.isEmpty {
            causes.append(FieldErrors.required(
                path, "set exactly one volume source (containerDisk, emptyDisk, hostDisk, cloudInitNoCloud or "
                    + "cloudInitConfigDrive)"))
        } else if sources.count > 1 {
            causes.append(FieldErrors.invalid(
                path, "must have exactly one source type set (found \(sources.joined(separator: ", ")))"))
        }
        if let hostDisk = volume.hostDisk {
            if hostDisk.path?.isEmpty ?? true {
                causes.append(FieldErrors.required("\(path).hostDisk.path", "the path of the disk image on the node"))
            }
            if let type = hostDisk.type {
                if !Self.hostDiskTypes.contains(type) {
                    causes.append(FieldErrors.notSupported("\(path).hostDisk.type", type, Self.hostDiskTypes))
                } else if type == "DiskOrCreate", hostDisk.capacity == nil {
                    causes.append(FieldErrors.required(
                        "\(path).hostDisk.capacity", "type DiskOrCreate needs the size of the disk to create"))
                }
            } else {
                causes.append(FieldErrors.required("\(path).hostDisk.type", "one of \"Disk\" or \"DiskOrCreate\""))
            }
        }
        if let containerDisk = volume.containerDisk, containerDisk.image?.isEmpty ?? true {
            causes.append(FieldErrors.required("\(path).containerDisk.image", "the container image that holds the disk"))
        }
        if let claim = volume.persistentVolumeClaim, claim.claimName?.isEmpty ?? true {
            causes.append(FieldErrors.required("\(path).persistentVolumeClaim.claimName"))
        }
        if let ephemeral = volume.ephemeral {
            if let claim = ephemeral.persistentVolumeClaim {
                if claim.claimName?.isEmpty ?? true {
                    causes.append(FieldErrors.required("\(path).ephemeral.persistentVolumeClaim.claimName"))
                }
            } else {
                causes.append(FieldErrors.required("\(path).ephemeral.persistentVolumeClaim"))
            }
        }
        if let dataVolume = volume.dataVolume, dataVolume.name?.isEmpty ?? true {
            causes.append(FieldErrors.required("\(path).dataVolume.name"))
        }
        if let emptyDisk = volume.emptyDisk, emptyDisk.capacity.bytes <= 0 {
            causes.append(FieldErrors.invalid(
                "\(path).emptyDisk.capacity", emptyDisk.capacity.text, "must be greater than 0"))
        }
        if let cloudInit = volume.cloudInitNoCloud {
            causes += validateCloudInit(cloudInit, path: "\(path).cloudInitNoCloud")
        }
        if let cloudInit = volume.cloudInitConfigDrive {
            causes += validateCloudInit(cloudInit, path: "\(path).cloudInitConfigDrive")
        }
        return causes
    }

    func validateCloudInit(_ source: CloudInitSource, path: String) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        var userSources: [String] = []
        if source.userData != nil { userSources.append("userData") }
        if source.userDataBase64 != nil { userSources.append("userDataBase64") }
        if source.secretRef != nil { userSources.append("secretRef") }
        var networkSources: [String] = []
        if source.networkData != nil { networkSources.append("networkData") }
        if source.networkDataBase64 != nil { networkSources.append("networkDataBase64") }
        if source.networkDataSecretRef != nil { networkSources.append("networkDataSecretRef") }

        if userSources.isEmpty, networkSources.isEmpty {
            causes.append(FieldErrors.required(
                path, "set one of userData, userDataBase64, secretRef, networkData, networkDataBase64 or networkDataSecretRef"))
        }
        if userSources.count > 1 {
            causes.append(FieldErrors.invalid(
                path, "userData, userDataBase64 and secretRef are mutually exclusive; set only one "
                    + "(found \(userSources.joined(separator: ", ")))"))
        }
        if networkSources.count > 1 {
            causes.append(FieldErrors.invalid(
                path, "networkData, networkDataBase64 and networkDataSecretRef are mutually exclusive; set only one "
                    + "(found \(networkSources.joined(separator: ", ")))"))
        }
        if let encoded = source.userDataBase64, !FieldErrors.isBase64(encoded) {
            causes.append(FieldErrors.invalid("\(path).userDataBase64", "must be valid base64; use userData for plain text"))
        }
        if let encoded = source.networkDataBase64, !FieldErrors.isBase64(encoded) {
            causes.append(FieldErrors.invalid("\(path).networkDataBase64", "must be valid base64; use networkData for plain text"))
        }
        if let secretRef = source.secretRef, secretRef.name?.isEmpty ?? true {
            causes.append(FieldErrors.required("\(path).secretRef.name"))
        }
        if let secretRef = source.networkDataSecretRef, secretRef.name?.isEmpty ?? true {
            causes.append(FieldErrors.required("\(path).networkDataSecretRef.name"))
        }
        return causes
    }

    // MARK: - Interfaces and networks

    func validateNetworking() -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let interfaces = spec.domain.devices.interfaces ?? []
        let networks = spec.networks ?? []
        let interfacesField = field("domain.devices.interfaces")
        let networksField = field("networks")

        var networkIndex: [String: Int] = [:]
        var podNetworkIndex: Int?
        var multusDefaultIndex: Int?
        for (i, network) in networks.enumerated() {
            let path = "\(networksField)[\(i)]"
            if network.name.isEmpty {
                causes.append(FieldErrors.required("\(path).name"))
            } else if let first = networkIndex[network.name] {
                causes.append(FieldErrors.duplicate(
                    "\(path).name", network.name, "\(networksField)[\(first)] already has this name; network names must be unique"))
            } else {
                networkIndex[network.name] = i
            }
            var sources: [String] = []
            if network.pod != nil { sources.append("pod") }
            if network.multus != nil { sources.append("multus") }
            if network.resourceClaim != nil { sources.append("resourceClaim") }
            if sources.isEmpty {
                causes.append(FieldErrors.required(path, "set exactly one of pod, multus or resourceClaim"))
            } else if sources.count > 1 {
                causes.append(FieldErrors.invalid(
                    path, "must have exactly one network type (found \(sources.joined(separator: ", ")))"))
            }
            if let cidr = network.pod?.vmNetworkCIDR, !cidr.isEmpty {
                do {
                    let parsed = try IPv4CIDR(parsing: cidr)
                    if parsed.prefixLength > 30 {
                        causes.append(FieldErrors.invalid(
                            "\(path).pod.vmNetworkCIDR", cidr, "is too small: the guest's network needs a gateway and a guest address (at most /30)"))
                    }
                } catch {
                    causes.append(FieldErrors.invalid("\(path).pod.vmNetworkCIDR", cidr, "must be an IPv4 network in CIDR notation, such as 10.0.2.0/24"))
                }
            }
            if network.pod != nil {
                if let first = podNetworkIndex {
                    causes.append(FieldErrors.invalid(
                        "\(path).pod", "only one network may be the pod network; \(networksField)[\(first)] already is"))
                } else {
                    podNetworkIndex = i
                }
            }
            if let multus = network.multus {
                if multus.networkName?.isEmpty ?? true {
                    causes.append(FieldErrors.required(
                        "\(path).multus.networkName", "the NetworkAttachmentDefinition, as name or namespace/name"))
                }
                if multus.default == true {
                    if let first = multusDefaultIndex {
                        causes.append(FieldErrors.invalid(
                            "\(path).multus.default", "only one multus network may be the default; \(networksField)[\(first)] already is"))
                    } else {
                        multusDefaultIndex = i
                    }
                }
            }
        }
        if let pod = podNetworkIndex, let multus = multusDefaultIndex {
            causes.append(FieldErrors.invalid(
                "\(networksField)[\(multus)].multus.default",
                "a default multus network and the pod network (\(networksField)[\(pod)]) are mutually exclusive"))
        }

        var interfaceIndex: [String: Int] = [:]
        for (i, iface) in interfaces.enumerated() {
            let path = "\(interfacesField)[\(i)]"
            if iface.name.isEmpty {
                causes.append(FieldErrors.required("\(path).name"))
            } else if let first = interfaceIndex[iface.name] {
                causes.append(FieldErrors.duplicate(
                    "\(path).name", iface.name, "\(interfacesField)[\(first)] already has this name; interface names must be unique"))
            } else {
                interfaceIndex[iface.name] = i
                if networkIndex[iface.name] == nil {
                    causes.append(FieldErrors.invalid(
                        "\(path).name", iface.name,
                        "not found in \(networksField); every interface needs a network of the same name"))
                }
            }
            let discontinued = Self.discontinuedBindings.filter { iface.bindingMethods.contains($0.key) }
            for (binding, since) in discontinued.sorted(by: { $0.key < $1.key }) {
                causes.append(FieldErrors.invalid(
                    "\(path).\(binding)", "the \(binding) binding was discontinued in KubeVirt \(since); use \(Self.bindingNames)"))
            }
            let bindings = iface.bindingMethods.filter { Self.discontinuedBindings[$0] == nil }
            if bindings.isEmpty, discontinued.isEmpty {
                causes.append(FieldErrors.required(path, "set exactly one binding method: \(Self.bindingNames)"))
            } else if bindings.count > 1 {
                causes.append(FieldErrors.invalid(
                    path, "must have exactly one binding method (found \(bindings.joined(separator: ", ")))"))
            }
            if iface.masquerade != nil, let n = networkIndex[iface.name], networks[n].pod == nil {
                causes.append(FieldErrors.invalid(
                    "\(path).masquerade", "the masquerade binding works only with the pod network; \(networksField)[\(n)] is not the pod network: bind it with bridge: {}"))
            }
            if let model = iface.model, !Self.interfaceModels.contains(model) {
                causes.append(FieldErrors.notSupported("\(path).model", model, Self.interfaceModels))
            }
            if let mac = iface.macAddress, !FieldErrors.isMACAddress(mac) {
                causes.append(FieldErrors.invalid(
                    "\(path).macAddress", mac, "must be a MAC address of six hex octets, such as 02:00:00:00:00:01"))
            }
            if let state = iface.state, !["up", "down", "absent"].contains(state) {
                causes.append(FieldErrors.notSupported("\(path).state", state, ["up", "down", "absent"]))
            }
            causes += Self.validatePorts(iface.ports ?? [], path: "\(path).ports")
            do {
                _ = try DHCPOptions(parsing: iface.dhcpOptions, path: "\(path).dhcpOptions")
            } catch {
                causes.append(FieldErrors.invalid(error.field, error.message))
            }
        }
        for (i, network) in networks.enumerated() where !network.name.isEmpty && interfaceIndex[network.name] == nil {
            causes.append(FieldErrors.invalid(
                "\(networksField)[\(i)].name", network.name,
                "not found in \(interfacesField); every network needs an interface of the same name"))
        }
        return causes
    }

    /// An interface's `ports`: each names a `port` from 1 to 65535, a `protocol` of TCP or UDP (TCP when
    /// absent) and, optionally, a `name` no other port of the interface has.
    static func validatePorts(_ ports: [JSONValue], path: String) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        var names: [String: Int] = [:]
        var seen: [String: Int] = [:]
        for (i, entry) in ports.enumerated() {
            let at = "\(path)[\(i)]"
            guard let port = entry.objectValue else {
                causes.append(FieldErrors.invalid(at, "must be an object with port, and optionally protocol and name"))
                continue
            }
            let number = port["port"]?.intValue
            if port["port"] == nil || port["port"]?.isNull == true {
                causes.append(FieldErrors.required("\(at).port", "the port to forward to the guest, from 1 to 65535"))
            } else if let number, !(1...65535).contains(number) {
                causes.append(FieldErrors.invalid("\(at).port", number: number, "must be a port number from 1 to 65535"))
            } else if number == nil {
                causes.append(FieldErrors.invalid("\(at).port", "must be a port number from 1 to 65535"))
            }
            let transport = port["protocol"]?.stringValue ?? Interface.defaultPortProtocol
            if let given = port["protocol"], !given.isNull, given.stringValue == nil || !["TCP", "UDP"].contains(transport) {
                causes.append(FieldErrors.notSupported("\(at).protocol", given.stringValue ?? given.serialized(), ["TCP", "UDP"]))
            }
            if let name = port["name"]?.stringValue, !name.isEmpty {
                if let first = names[name] {
                    causes.append(FieldErrors.duplicate("\(at).name", name, "\(path)[\(first)] already has this name; port names must be unique"))
                } else {
                    names[name] = i
                }
            }
            if let number {
                let key = "\(transport)/\(number)"
                if let first = seen[key] {
                    causes.append(FieldErrors.duplicate("\(at).port", number: number, "\(path)[\(first)] already forwards \(transport) port \(number)"))
                } else {
                    seen[key] = i
                }
            }
        }
        return causes
    }

    // MARK: - Boot order

    func validateBootOrder() -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        var seen: [UInt: String] = [:]
        var entries: [(UInt, String)] = []
        for (i, disk) in (spec.domain.devices.disks ?? []).enumerated() {
            if let order = disk.bootOrder { entries.append((order, field("domain.devices.disks[\(i)]"))) }
        }
        for (i, iface) in (spec.domain.devices.interfaces ?? []).enumerated() {
            if let order = iface.bootOrder { entries.append((order, field("domain.devices.interfaces[\(i)]"))) }
        }
        for (order, device) in entries {
            if order < 1 {
                causes.append(FieldErrors.invalid(
                    "\(device).bootOrder", number: Int64(order), "must be greater than or equal to 1 (1 boots first)"))
            } else if let first = seen[order] {
                causes.append(FieldErrors.duplicate(
                    "\(device).bootOrder", number: Int64(order), "\(first) already has this boot order; each device needs its own"))
            } else {
                seen[order] = device
            }
        }
        return causes
    }

    // MARK: - Scheduling and identity

    func validateScheduling() -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        if let strategy = spec.evictionStrategy, !Self.evictionStrategies.contains(strategy) {
            causes.append(FieldErrors.notSupported(field("evictionStrategy"), strategy, Self.evictionStrategies))
        }
        if let strategy = spec.startStrategy, !Self.startStrategies.contains(strategy) {
            causes.append(FieldErrors.notSupported(field("startStrategy"), strategy, Self.startStrategies))
        }
        if let grace = spec.terminationGracePeriodSeconds, grace < 0 {
            causes.append(FieldErrors.invalid(field("terminationGracePeriodSeconds"), number: grace, "must be greater than or equal to 0"))
        }
        if let hostname = spec.hostname, !hostname.isEmpty, let problem = NameValidation.dns1123Label(hostname) {
            causes.append(FieldErrors.invalid(field("hostname"), hostname, problem))
        }
        if let subdomain = spec.subdomain, !subdomain.isEmpty, let problem = NameValidation.dns1123Label(subdomain) {
            causes.append(FieldErrors.invalid(field("subdomain"), subdomain, problem))
        }
        return causes
    }
}
