import VirtAPI
import VirtError

/// Builds the argument list of `QEMUCommand` in one pass over the spec.
///
/// Problems with the spec are collected (every field at once, like API validation), then thrown
/// together; a context that lacks something the agent should have prepared throws at once.
/// The concerns live in extensions: machine/CPU/memory, firmware, disks, interfaces, other devices.
struct QEMUCommandBuilder {
    let spec: VirtualMachineInstanceSpec
    let context: LaunchContext

    /// One problem with the spec: the error code it calls for and the field cause.
    struct Problem {
        var code: VirtError.Code
        var cause: VirtError.Cause
    }

    private(set) var problems: [Problem] = []

    /// Properties of `-machine` collected while reading the spec (`smm`, `hpet`, `pflash0`, …).
    var machineProperties: [(String, String)] = []
    /// Properties of `-cpu` after the model (`hv-relaxed=on`, `vmx=off`, …).
    var cpuProperties: [(String, String)] = []
    /// `-rtc` properties.
    var rtcProperties: [(String, String)] = [("base", "utc")]
    /// `-global` settings.
    var globals: [String] = []
    /// `-action` settings (`reboot=shutdown`, `watchdog=poweroff`).
    var actions: [(String, String)] = []

    /// The guest CPU topology; `vcpus` are enabled at boot, `maxSockets` sockets exist for hotplug.
    var sockets = 1, cores = 1, threads = 1, maxSockets = 1
    /// The guest's vCPU count (enabled at boot).
    var vcpus: Int { sockets * cores * threads }
    /// Whether a `qemu-xhci` controller (bus `usb.0`) is on the command line already.
    var usbControllerAdded = false
    /// The machine family decides where SATA disks plug in.
    var machineFamily: MachineFamily = .q35

    init(spec: VirtualMachineInstanceSpec, context: LaunchContext) {
        self.spec = spec
        self.context = context
    }

    var devices: Devices { spec.domain.devices }

    /// A field path from the object root.
    func field(_ relative: String) -> String { "spec.\(relative)" }

    mutating func unsupported(_ field: String, _ message: String) {
        problems.append(Problem(code: .unsupported, cause: VirtError.Cause(reason: "FieldValueNotSupported", message: message, field: field)))
    }

    mutating func invalid(_ field: String, _ message: String) {
        problems.append(Problem(code: .invalid, cause: VirtError.Cause(reason: "FieldValueInvalid", message: message, field: field)))
    }

    mutating func required(_ field: String, _ message: String) {
        problems.append(Problem(code: .invalid, cause: VirtError.Cause(reason: "FieldValueRequired", message: message, field: field)))
    }

    /// The agent did not prepare something the spec needs: a bug in the caller, not in the spec.
    static func notPrepared(_ what: String) -> VirtError {
        VirtError(.internal, "the launch context has no \(what); the node agent must prepare it before building the QEMU command")
    }

    mutating func build(guestName: String?) throws(VirtError) -> [String] {
        var args: [String] = []
        if let guestName {
            var name = QEMUOptionList()
            name.add("guest", guestName)
            name.add("debug-threads", true)
            args += ["-name", name.text]
        }

        // Read the spec: every section appends its own arguments and collects its machine, CPU and RTC
        // properties, which are rendered in the header below.
        let uuid = try systemUUID()
        let machineType = readMachineType()
        let cpuModel = readCPU()
        readFeatures()
        readClock()
        let memoryMiB = readMemory()
        let firmwareArgs = try firmwareArguments(uuid: uuid)
        let diskArgs = try diskArguments()
        let nicArgs = interfaceArguments()
        let deviceArgs = try otherDeviceArguments()
        readUnsupportedDomainFields()

        if !problems.isEmpty {
            let causes = problems.map(\.cause)
            let code: VirtError.Code = problems.contains { $0.code == .invalid } ? .invalid : .unsupported
            let list = causes.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            throw VirtError(code, "this VirtualMachineInstance cannot run on SwiftVirt: \(list)", causes: causes)
        }

        args += ["-uuid", uuid]
        var machine = QEMUOptionList(machineType)
        for (key, value) in machineProperties { machine.add(key, value) }
        args += ["-machine", machine.text]
        args += ["-accel", context.accelerator.rawValue]
        var cpu = QEMUOptionList(cpuModel)
        for (key, value) in cpuProperties { cpu.add(key, value) }
        args += ["-cpu", cpu.text]
        args += ["-smp", smpText()]
        args += ["-m", "\(memoryMiB)M"]
        args += ["-nodefaults", "-no-user-config", "-display", "none", "-msg", "timestamp=on"]

        var qmp = QEMUOptionList("socket")
        qmp.add("id", "qmp")
        qmp.add("path", context.qmpSocketPath)
        qmp.add("server", true)
        qmp.add("wait", false)
        args += ["-chardev", qmp.text, "-mon", "chardev=qmp,mode=control"]

        var rtc = QEMUOptionList()
        for (key, value) in rtcProperties { rtc.add(key, value) }
        args += ["-rtc", rtc.text]
        args += ["-boot", "strict=on"]
        for global in globals { args += ["-global", global] }
        if !actions.isEmpty {
            var action = QEMUOptionList()
            for (key, value) in actions { action.add(key, value) }
            args += ["-action", action.text]
        }
        args += firmwareArgs
        args += diskArgs
        args += nicArgs
        args += deviceArgs
        if context.incoming { args += ["-incoming", "defer"] }
        if context.startPaused { args.append("-S") }
        return args
    }

    /// The two x86 machine families: which chipset the guest sees.
    enum MachineFamily {
        /// Q35 / ICH9: PCI Express, built-in AHCI (`ide.0`…`ide.5`).
        case q35
        /// i440FX / PIIX: plain PCI; SATA needs an added AHCI controller.
        case pc
    }
}
