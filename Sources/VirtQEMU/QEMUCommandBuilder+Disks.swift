import VirtAPI
import VirtError

/// `devices.disks` → `-blockdev` node pairs and the device that shows each to the guest.
///
/// Every disk becomes a protocol node (`driver=file`, `host_device` for a block device) and a format node (`raw`/`qcow2`) named after the
/// disk (see `QEMUNames`), then a device on its bus: `virtio-blk-pci`; SATA `ide-hd`/`ide-cd` on the
/// chipset's AHCI ports (Q35's built-in `ide.0`…`ide.5`; on i440FX an added `ich9-ahci`); SCSI
/// `scsi-hd`/`scsi-cd` as LUNs of one `virtio-scsi-pci`; USB `usb-storage` on a `qemu-xhci`.
///
/// Cache modes, as libvirt renders them: `none` → `cache.direct=on` and the guest's write cache on;
/// `writethrough` → host page cache, guest write cache off; `writeback` → host page cache, guest write
/// cache on. Unset: `none` where the agent found direct I/O works, else `writethrough` (KubeVirt's rule).
/// Error policy defaults to `stop` (KubeVirt's default); writable disks pass discards through (`unmap`).
extension QEMUCommandBuilder {
    static let cacheModes = ["none", "writethrough", "writeback"]
    static let errorPolicies = ["stop", "ignore", "report", "enospace"]
    /// Q35's built-in AHCI has six ports.
    static let sataPorts = 6

    mutating func diskArguments() throws(VirtError) -> [String] {
        let disks = devices.disks ?? []
        let transitional = devices.useVirtioTransitional == true ? "-transitional" : ""

        // I/O threads: KubeVirt uses them when a policy is set or a disk asks for its own thread; the
        // other virtio disks then share one.
        switch spec.domain.ioThreadsPolicy {
        case nil, "shared": break
        case let policy?:
            unsupported(field("domain.ioThreadsPolicy"),
                "Unsupported value: \(Self.quoted(policy)): supported values: \"shared\" (the auto and supplementalPool policies are not supported yet)")
        }
        if spec.domain.ioThreads != nil {
            unsupported(field("domain.ioThreads"), "a supplemental I/O thread pool is not supported yet; remove ioThreads")
        }
        let useIOThreads = spec.domain.ioThreadsPolicy != nil || disks.contains { $0.dedicatedIOThread == true }
        var sharedIOThreadUsed = false

        var controllers: [String] = []
        var objects: [String] = []
        var body: [String] = []
        var sataPort = 0
        var scsiLUN = 0
        var seen: Set<String> = []

        for (i, disk) in disks.enumerated() {
            let path = field("domain.devices.disks[\(i)]")
            if !seen.insert(disk.name).inserted {
                invalid("\(path).name", "Duplicate value: \(Self.quoted(disk.name)): disk names must be unique")
                continue
            }
            let targets = [disk.disk != nil, disk.cdrom != nil, disk.lun != nil].filter { $0 }.count
            if targets > 1 {
                invalid(path, "must have only one of disk, cdrom and lun")
                continue
            }
            if disk.lun != nil {
                unsupported("\(path).lun", "SCSI LUN passthrough is not supported; use disk: {bus: scsi} instead")
                continue
            }
            let isCDROM = disk.cdrom != nil
            let bus = (isCDROM ? disk.cdrom?.bus : disk.disk?.bus) ?? (isCDROM ? "sata" : "virtio")
            let targetPath = isCDROM ? "\(path).cdrom" : "\(path).disk"
            var readOnly = isCDROM ? true : disk.disk?.readonly ?? false

            if isCDROM {
                if disk.cdrom?.readonly == false {
                    unsupported("\(targetPath).readonly", "a CD-ROM is always read-only; remove readonly: false or use a disk")
                }
                if let tray = disk.cdrom?.tray, tray != "closed" {
                    unsupported("\(targetPath).tray", "Unsupported value: \(Self.quoted(tray)): an open (empty) tray is not supported; remove tray")
                }
            }
            if disk.disk?.pciAddress != nil {
                unsupported("\(targetPath).pciAddress", "placing a disk at a fixed PCI address is not supported yet; remove pciAddress")
            }
            if disk.changedBlockTracking == true {
                unsupported("\(path).changedBlockTracking", "changed block tracking is not supported yet; remove changedBlockTracking")
            }

            // A CD-ROM with no volume is an empty drive: the device with no medium in it.
            let prepared = context.disks[disk.name]
            let empty = isCDROM && prepared == nil && !(spec.volumes ?? []).contains { $0.name == disk.name }
            if prepared == nil && !empty {
                throw Self.notPrepared("prepared image for disk \(Self.quoted(disk.name))")
            }
            readOnly = readOnly || prepared?.readonly == true

            // Cache mode and I/O mode.
            let cache: String
            switch disk.cache {
            case nil:
                cache = prepared?.directIO == true ? "none" : "writethrough"
            case "none"?:
                cache = "none"
                if prepared?.directIO == false {
                    invalid("\(path).cache",
                        "Invalid value: \"none\": the file system that holds this disk's volume does not support direct I/O; use writethrough or writeback")
                }
            case let mode? where Self.cacheModes.contains(mode):
                cache = mode
            case let mode?:
                unsupported("\(path).cache", "Unsupported value: \(Self.quoted(mode)): supported values: \(Self.cacheModes.map(Self.quoted).joined(separator: ", "))")
                cache = "writethrough"
            }
            let direct = cache == "none"
            var aio: String?
            switch disk.io {
            case nil, "default"?: break
            case "threads"?: aio = "threads"
            case "native"?:
                aio = "native"
                if !direct {
                    invalid("\(path).io", "Invalid value: \"native\": native I/O needs direct I/O; set cache: none or io: threads")
                }
            case let mode?:
                unsupported("\(path).io", "Unsupported value: \(Self.quoted(mode)): supported values: \"native\", \"threads\", \"default\"")
            }

            // The two block nodes.
            var file = QEMUOptionList()
            file.add("driver", prepared?.blockDevice == true ? "host_device" : "file")
            file.add("filename", prepared?.path ?? "")
            file.add("node-name", QEMUNames.fileNode(disk.name))
            file.add("read-only", readOnly)
            file.add("cache.direct", direct)
            file.add("cache.no-flush", false)
            if let aio { file.add("aio", aio) }
            if !readOnly { file.add("discard", "unmap") }
            var format = QEMUOptionList()
            format.add("driver", prepared?.format.rawValue ?? "raw")
            format.add("file", QEMUNames.fileNode(disk.name))
            format.add("node-name", QEMUNames.formatNode(disk.name))
            format.add("read-only", readOnly)
            format.add("cache.direct", direct)
            format.add("cache.no-flush", false)
            if !readOnly { format.add("discard", "unmap") }

            // The device.
            var device: QEMUOptionList
            switch (bus, isCDROM) {
            case ("virtio", false):
                device = QEMUOptionList("virtio-blk-pci" + transitional)
            case ("virtio", true):
                invalid("\(targetPath).bus", "Unsupported value: \"virtio\": a CD-ROM uses bus sata or scsi")
                continue
            case ("sata", _):
                if !isCDROM && readOnly {
                    unsupported("\(targetPath).readonly",
                        "QEMU cannot show a read-only SATA disk; use bus virtio or scsi, or make it a cdrom")
                }
                if sataPort >= Self.sataPorts {
                    invalid("\(targetPath).bus", "Invalid value: \"sata\": the SATA controller has \(Self.sataPorts) ports; use bus virtio or scsi for the other disks")
                    continue
                }
                if machineFamily == .pc && sataPort == 0 {
                    controllers += ["-device", "ich9-ahci,id=sata0"]
                }
                device = QEMUOptionList(isCDROM ? "ide-cd" : "ide-hd")
                device.add("bus", machineFamily == .q35 ? "ide.\(sataPort)" : "sata0.\(sataPort)")
                sataPort += 1
            case ("scsi", _):
                if scsiLUN == 0 {
                    controllers += ["-device", "virtio-scsi-pci\(transitional),id=scsi0"]
                }
                device = QEMUOptionList(isCDROM ? "scsi-cd" : "scsi-hd")
                device.add("bus", "scsi0.0")
                device.add("channel", 0)
                device.add("scsi-id", 0)
                device.add("lun", scsiLUN)
                scsiLUN += 1
            case ("usb", false):
                if !usbControllerAdded {
                    controllers += ["-device", "qemu-xhci,id=usb"]
                    usbControllerAdded = true
                }
                device = QEMUOptionList("usb-storage")
                device.add("bus", "usb.0")
            default:
                invalid("\(targetPath).bus",
                    "Unsupported value: \(Self.quoted(bus)): supported values: \(isCDROM ? "\"sata\", \"scsi\"" : "\"virtio\", \"sata\", \"scsi\", \"usb\"")")
                continue
            }
            if !empty { device.add("drive", QEMUNames.formatNode(disk.name)) }
            device.add("id", QEMUNames.deviceID(disk.name))

            if bus == "virtio" {
                if disk.dedicatedIOThread == true {
                    let thread = "iothread-\(QEMUNames.base(disk.name))"
                    objects += ["-object", "iothread,id=\(thread)"]
                    device.add("iothread", thread)
                } else if useIOThreads {
                    sharedIOThreadUsed = true
                    device.add("iothread", "iothread-shared")
                }
                if devices.blockMultiQueue == true {
                    device.add("num-queues", vcpus)
                }
            } else if disk.dedicatedIOThread == true {
                invalid("\(path).dedicatedIOThread", "Invalid value: true: I/O threads serve virtio disks only; use bus virtio")
            }
            if let serial = disk.serial, !serial.isEmpty {
                device.add("serial", serial)
            }
            if let order = disk.bootOrder {
                device.add("bootindex", order)
            }
            if empty {
                // No medium: nothing to cache, nothing to fail on.
                body += ["-device", device.text]
                continue
            }
            device.add("write-cache", cache != "writethrough")
            switch disk.errorPolicy ?? "stop" {
            case "stop", "ignore", "report":
                let policy = disk.errorPolicy ?? "stop"
                device.add("werror", policy)
                device.add("rerror", policy)
            case "enospace":
                device.add("werror", "enospc")
                device.add("rerror", "report")
            case let policy:
                unsupported("\(path).errorPolicy",
                    "Unsupported value: \(Self.quoted(policy)): supported values: \(Self.errorPolicies.map(Self.quoted).joined(separator: ", "))")
            }
            if disk.shareable == true {
                device.add("share-rw", true)
            }
            readBlockSize(disk.blockSize, path: "\(path).blockSize", into: &device)

            body += ["-blockdev", file.text, "-blockdev", format.text, "-device", device.text]
        }
        if sharedIOThreadUsed {
            objects = ["-object", "iothread,id=iothread-shared"] + objects
        }
        return objects + controllers + body
    }

    /// `blockSize: {custom: {logical, physical}}`; `matchVolume` needs the volume inspected, not yet done.
    mutating func readBlockSize(_ blockSize: JSONValue?, path: String, into device: inout QEMUOptionList) {
        guard let blockSize, !blockSize.isNull else { return }
        if let custom = blockSize["custom"], !custom.isNull {
            for (key, property) in [("logical", "logical_block_size"), ("physical", "physical_block_size")] {
                guard let size = custom[key]?.intValue else { continue }
                guard size >= 512, size <= 2_097_152, size & (size - 1) == 0 else {
                    invalid("\(path).custom.\(key)", "Invalid value: \(size): must be a power of two from 512 to 2097152")
                    continue
                }
                device.add(property, Int(size))
            }
        }
        if let match = blockSize["matchVolume"], !match.isNull {
            unsupported("\(path).matchVolume", "matching the volume's block size is not supported yet; set custom sizes instead")
        }
    }
}
