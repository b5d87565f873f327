import VirtAPI
import VirtError

/// The devices besides disks and NICs: serial console, graphics, inputs, balloon, RNG, watchdog, and
/// the device kinds SwiftVirt refuses.
extension QEMUCommandBuilder {
    /// KubeVirt video type → QEMU display device.
    static let videoDevices: [(String, String)] = [
        ("vga", "VGA"), ("virtio", "virtio-vga"), ("bochs", "bochs-display"), ("cirrus", "cirrus-vga"), ("ramfb", "ramfb"),
    ]

    mutating func otherDeviceArguments() throws(VirtError) -> [String] {
        var args: [String] = []
        let base = field("domain.devices")

        // Serial console: the first serial port (ttyS0), served on a unix socket the console connects to.
        if devices.autoattachSerialConsole != false {
            guard let socket = context.serialSocketPath else { throw Self.notPrepared("serialSocketPath for the serial console") }
            var chardev = QEMUOptionList("socket")
            chardev.add("id", "charserial0")
            chardev.add("path", socket)
            chardev.add("server", true)
            chardev.add("wait", false)
            if let log = context.serialLogPath, devices.logSerialConsole != false {
                chardev.add("logfile", log)
                chardev.add("logappend", true)
            }
            args += ["-chardev", chardev.text, "-device", "isa-serial,chardev=charserial0,id=serial0"]
        }

        // Graphics: a display adapter and VNC on a unix socket, or nothing at all.
        if devices.autoattachGraphicsDevice != false {
            guard let socket = context.vncSocketPath else { throw Self.notPrepared("vncSocketPath for the graphics device") }
            var adapter = "VGA"
            if let video = devices.video, !video.isNull {
                let type = video["type"]?.stringValue ?? "vga"
                if let device = Self.videoDevices.first(where: { $0.0 == type })?.1 {
                    adapter = device
                } else {
                    unsupported("\(base).video.type",
                        "Unsupported value: \(Self.quoted(type)): supported values: \(Self.videoDevices.map { Self.quoted($0.0) }.joined(separator: ", "))")
                }
            }
            args += ["-device", "\(adapter),id=video0", "-vnc", QEMUOptionList("unix:\(socket)").text]
        } else {
            if let video = devices.video, !video.isNull {
                invalid("\(base).video", "a video device needs graphics; remove video or autoattachGraphicsDevice: false")
            }
            args += ["-vga", "none"]
        }

        args += inputArguments(base: base)

        if devices.autoattachMemBalloon != false {
            let transitional = devices.useVirtioTransitional == true ? "-transitional" : ""
            args += ["-device", "virtio-balloon-pci\(transitional),id=balloon0,free-page-reporting=on"]
        }
        if let rng = devices.rng, !rng.isNull {
            let transitional = devices.useVirtioTransitional == true ? "-transitional" : ""
            args += ["-object", "rng-random,id=objrng0,filename=/dev/urandom",
                     "-device", "virtio-rng-pci\(transitional),rng=objrng0,id=rng0"]
        }
        args += watchdogArguments(base: base)

        if devices.autoattachVSOCK == true {
            unsupported("\(base).autoattachVSOCK", "VSOCK is not supported yet; remove autoattachVSOCK")
        }
        let refused: [(String, Bool, String)] = [
            ("gpus", !(devices.gpus ?? []).isEmpty, "GPU passthrough is not supported; remove gpus"),
            ("hostDevices", !(devices.hostDevices ?? []).isEmpty, "host device passthrough is not supported; remove hostDevices"),
            ("filesystems", !(devices.filesystems ?? []).isEmpty, "virtiofs file systems are not supported yet; remove filesystems"),
            ("panicDevices", !(devices.panicDevices ?? []).isEmpty, "panic devices are not supported yet; remove panicDevices"),
            ("downwardMetrics", devices.downwardMetrics.map { !$0.isNull } ?? false, "the downward metrics device is not supported yet; remove downwardMetrics"),
            ("clientPassthrough", devices.clientPassthrough.map { !$0.isNull } ?? false, "USB client passthrough is not supported; remove clientPassthrough"),
            ("sound", devices.sound.map { !$0.isNull } ?? false, "sound devices are not supported yet; remove sound"),
            ("tpm", devices.tpm.map { !$0.isNull } ?? false, "an emulated TPM is not supported yet; remove tpm"),
        ]
        for (name, present, message) in refused where present {
            unsupported("\(base).\(name)", message)
        }
        return args
    }

    /// `devices.inputs` (`{type: tablet|keyboard, bus: usb|virtio, name}`), plus a virtio tablet for
    /// `autoattachInputDevice`.
    mutating func inputArguments(base: String) -> [String] {
        var inputs: [(name: String, type: String, bus: String, path: String)] = []
        for (i, input) in (devices.inputs ?? []).enumerated() {
            let path = "\(base).inputs[\(i)]"
            guard let name = input["name"]?.stringValue, !name.isEmpty else {
                required("\(path).name", "Required value: a name for the input device")
                continue
            }
            inputs.append((name, input["type"]?.stringValue ?? "tablet", input["bus"]?.stringValue ?? "usb", path))
        }
        if devices.autoattachInputDevice == true && inputs.isEmpty {
            inputs.append(("default-0", "tablet", "virtio", "\(base).autoattachInputDevice"))
        }
        var args: [String] = []
        for input in inputs {
            let device: String
            switch (input.type, input.bus) {
            case ("tablet", "usb"): device = "usb-tablet"
            case ("tablet", "virtio"): device = "virtio-tablet-pci"
            case ("keyboard", "usb"): device = "usb-kbd"
            case ("keyboard", "virtio"): device = "virtio-keyboard-pci"
            case ("tablet", _), ("keyboard", _):
                unsupported("\(input.path).bus", "Unsupported value: \(Self.quoted(input.bus)): supported values: \"usb\", \"virtio\"")
                continue
            default:
                unsupported("\(input.path).type", "Unsupported value: \(Self.quoted(input.type)): supported values: \"tablet\", \"keyboard\"")
                continue
            }
            if input.bus == "usb" && !usbControllerAdded {
                args += ["-device", "qemu-xhci,id=usb"]
                usbControllerAdded = true
            }
            var option = QEMUOptionList(device)
            option.add("id", QEMUNames.deviceID(input.name))
            if input.bus == "usb" { option.add("bus", "usb.0") }
            args += ["-device", option.text]
        }
        return args
    }

    /// `devices.watchdog: {name, i6300esb: {action}}`; the action defaults to `reset`.
    mutating func watchdogArguments(base: String) -> [String] {
        guard let watchdog = devices.watchdog, !watchdog.isNull else { return [] }
        let path = "\(base).watchdog"
        guard let name = watchdog["name"]?.stringValue, !name.isEmpty else {
            required("\(path).name", "Required value: a name for the watchdog")
            return []
        }
        guard let model = watchdog["i6300esb"], !model.isNull else {
            unsupported(path, "only the i6300esb watchdog is supported on x86-64; set i6300esb: {}")
            return []
        }
        let action = model["action"]?.stringValue ?? "reset"
        guard ["poweroff", "reset", "shutdown"].contains(action) else {
            unsupported("\(path).i6300esb.action", "Unsupported value: \(Self.quoted(action)): supported values: \"poweroff\", \"reset\", \"shutdown\"")
            return []
        }
        actions.append(("watchdog", action))
        var device = QEMUOptionList("i6300esb")
        device.add("id", QEMUNames.deviceID(name))
        return ["-device", device.text]
    }
}
