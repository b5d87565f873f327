import VirtAPI
import VirtError

/// `domain.firmware`: SMBIOS identity, BIOS or UEFI, direct kernel boot.
extension QEMUCommandBuilder {
    /// `firmware.uuid` when set, else the VMI's UID.
    mutating func systemUUID() throws(VirtError) -> String {
        if let uuid = spec.domain.firmware?.uuid, !uuid.isEmpty {
            if Self.isUUID(uuid) { return uuid.lowercased() }
            invalid(field("domain.firmware.uuid"),
                "Invalid value: \(Self.quoted(uuid)): must be a UUID such as 5d307ca9-b3ef-428c-8861-06e72d69f223")
            return "00000000-0000-0000-0000-000000000000"
        }
        guard Self.isUUID(context.vmiUID) else {
            throw VirtError(.internal, "the launch context's vmiUID \(Self.quoted(context.vmiUID)) is not a UUID; pass the VMI's metadata.uid")
        }
        return context.vmiUID.lowercased()
    }

    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                if b != UInt8(ascii: "-") { return false }
            } else if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                && !(UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b)
                && !(UInt8(ascii: "A")...UInt8(ascii: "F")).contains(b)
            {
                return false
            }
        }
        return true
    }

    mutating func firmwareArguments(uuid: String) throws(VirtError) -> [String] {
        let firmware = spec.domain.firmware
        var args: [String] = []

        // SMBIOS system information as KubeVirt fills it in; the UUID comes from -uuid.
        var smbios = QEMUOptionList()
        smbios.add("type", 1)
        smbios.add("manufacturer", "KubeVirt")
        smbios.add("product", "None")
        smbios.add("family", "KubeVirt")
        if let serial = firmware?.serial, !serial.isEmpty { smbios.add("serial", serial) }
        args += ["-smbios", smbios.text]

        if firmware?.acpi != nil {
            unsupported(field("domain.firmware.acpi"), "custom ACPI tables are not supported yet; remove acpi")
        }

        let bootloader = firmware?.bootloader
        if let efi = bootloader?.efi {
            args += efiArguments(efi)
        } else if bootloader?.bios?.useSerial == true {
            if devices.autoattachSerialConsole == false {
                invalid(field("domain.firmware.bootloader.bios.useSerial"),
                    "Invalid value: true: BIOS output on the serial console needs the serial console; remove autoattachSerialConsole: false")
            }
            // SeaBIOS mirrors its screen to the first serial port when the machine has no graphics.
            machineProperties.append(("graphics", "off"))
        }

        if let kernelBoot = firmware?.kernelBoot {
            args += try kernelBootArguments(kernelBoot)
        }
        return args
    }

    /// UEFI through OVMF in two pflash devices: the shared read-only code and this VM's variable store.
    mutating func efiArguments(_ efi: EFI) -> [String] {
        let path = field("domain.firmware.bootloader.efi")
        let secureBoot = efi.secureBoot ?? true
        guard let files = context.efi else {
            unsupported(path, "this node has no UEFI firmware (OVMF); install the ovmf package on the node, or boot with bios: {}")
            return []
        }
        if secureBoot {
            if !files.secureBoot {
                unsupported("\(path).secureBoot",
                    "this node's OVMF build has no Secure Boot; set secureBoot: false, or install a Secure Boot OVMF on the node")
                return []
            }
            if machineProperties.contains(where: { $0 == ("smm", "off") }) {
                invalid(field("domain.features.smm.enabled"), "Invalid value: false: UEFI Secure Boot needs SMM; enable smm or set secureBoot: false")
            }
            if machineFamily != .q35 {
                invalid(field("domain.machine.type"), "UEFI Secure Boot needs a q35 machine type")
            }
            machineProperties.removeAll { $0.0 == "smm" }
            machineProperties.append(("smm", "on"))
            globals.append("driver=cfi.pflash01,property=secure,value=on")
        }
        machineProperties.append(("pflash0", "pflash0"))
        machineProperties.append(("pflash1", "pflash1"))
        var args: [String] = []
        for (node, file, readOnly) in [("pflash0", files.codePath, true), ("pflash1", files.varsPath, false)] {
            var storage = QEMUOptionList()
            storage.add("driver", "file")
            storage.add("filename", file)
            storage.add("node-name", "\(node)-storage")
            storage.add("read-only", readOnly)
            var format = QEMUOptionList()
            format.add("driver", "raw")
            format.add("file", "\(node)-storage")
            format.add("node-name", node)
            format.add("read-only", readOnly)
            args += ["-blockdev", storage.text, "-blockdev", format.text]
        }
        return args
    }

    /// `-kernel`, `-initrd` and `-append` from files the agent extracted from `kernelBoot.container`.
    mutating func kernelBootArguments(_ kernelBoot: KernelBoot) throws(VirtError) -> [String] {
        let path = field("domain.firmware.kernelBoot")
        guard let container = kernelBoot.container else {
            if let args = kernelBoot.kernelArgs, !args.isEmpty {
                required("\(path).container", "Required value: kernel arguments need a kernel; set \(path).container")
            }
            return []
        }
        guard !(container.kernelPath ?? "").isEmpty else {
            required("\(path).container.kernelPath", "Required value: QEMU boots an initrd only together with a kernel; set kernelPath")
            return []
        }
        guard let kernel = context.kernelPath else { throw Self.notPrepared("kernelPath for firmware.kernelBoot") }
        var args = ["-kernel", kernel]
        if let initrdPath = container.initrdPath, !initrdPath.isEmpty {
            guard let initrd = context.initrdPath else { throw Self.notPrepared("initrdPath for firmware.kernelBoot") }
            args += ["-initrd", initrd]
        }
        if let kernelArgs = kernelBoot.kernelArgs, !kernelArgs.isEmpty {
            args += ["-append", kernelArgs]
        }
        return args
    }
}
