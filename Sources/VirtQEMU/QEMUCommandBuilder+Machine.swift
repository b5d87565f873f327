import VirtAPI
import VirtError

/// Machine type, CPU, memory, `domain.features` and `domain.clock`.
extension QEMUCommandBuilder {
    static let supportedMachineTypes = ["q35", "pc-q35-*", "pc", "pc-i440fx-*"]

    /// `domain.machine.type` → the `-machine` type. RHEL's versioned types (`pc-q35-rhel9.4.0`, common in
    /// OpenShift templates) exist only in RHEL's QEMU; they are versions of Q35 / i440FX, so they run as
    /// this QEMU's newest `q35` / `pc`.
    mutating func readMachineType() -> String {
        let requested = spec.domain.machine?.type ?? ""
        switch requested {
        case "", "q35":
            machineFamily = .q35
            return "q35"
        case "pc":
            machineFamily = .pc
            return "pc"
        case _ where requested.hasPrefix("pc-q35-rhel"):
            machineFamily = .q35
            return "q35"
        case _ where requested.hasPrefix("pc-i440fx-rhel"):
            machineFamily = .pc
            return "pc"
        case _ where requested.hasPrefix("pc-q35-") && Self.isVersion(requested.dropFirst("pc-q35-".count)):
            machineFamily = .q35
            return requested
        case _ where requested.hasPrefix("pc-i440fx-") && Self.isVersion(requested.dropFirst("pc-i440fx-".count)):
            machineFamily = .pc
            return requested
        default:
            unsupported(
                field("domain.machine.type"),
                "Unsupported value: \(Self.quoted(requested)): supported values: \(Self.supportedMachineTypes.map(Self.quoted).joined(separator: ", ")) (x86-64 only)")
            return "q35"
        }
    }

    static func isVersion(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
    }

    // MARK: - CPU

    /// Reads `domain.cpu`: topology, model and features. Returns the `-cpu` model.
    mutating func readCPU() -> String {
        let cpu = spec.domain.cpu
        readTopology(cpu)

        if cpu?.dedicatedCpuPlacement == true {
            unsupported(field("domain.cpu.dedicatedCpuPlacement"),
                "dedicated CPU placement (CPU pinning) is not supported yet; remove dedicatedCpuPlacement")
        }
        if cpu?.isolateEmulatorThread == true {
            unsupported(field("domain.cpu.isolateEmulatorThread"),
                "isolating the emulator thread needs dedicated CPU placement, which is not supported yet; remove isolateEmulatorThread")
        }
        if cpu?.numa != nil {
            unsupported(field("domain.cpu.numa"), "guest NUMA topology is not supported yet; remove numa")
        }
        if cpu?.realtime != nil {
            unsupported(field("domain.cpu.realtime"), "realtime vCPUs are not supported yet; remove realtime")
        }

        let model: String
        switch cpu?.model ?? "" {
        case "", "host-model", "host-passthrough":
            // KubeVirt's default is host-model. QEMU's `host` passes the host CPU through under KVM;
            // TCG cannot run the host CPU, and `max` is every feature TCG emulates.
            model = context.accelerator == .kvm ? "host" : "max"
        case let named:
            if Self.isCPUName(named) {
                model = named
            } else {
                invalid(field("domain.cpu.model"),
                    "Invalid value: \(Self.quoted(named)): must be host-model, host-passthrough or a CPU model name such as Skylake-Client")
                model = "max"
            }
        }
        readCPUFeatures(cpu?.features)
        return model
    }

    static func isCPUName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { s in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "-" || s == "_" || s == "."
        }
    }

    /// KubeVirt's rule: without cores, sockets and threads the vCPU count comes from the CPU limit (else the
    /// request), rounded up, as sockets; missing parts of a given topology are 1.
    mutating func readTopology(_ cpu: CPU?) {
        let given = [cpu?.sockets, cpu?.cores, cpu?.threads].contains { ($0 ?? 0) > 0 }
        sockets = Int(cpu?.sockets ?? 0)
        cores = Int(cpu?.cores ?? 0)
        threads = Int(cpu?.threads ?? 0)
        if !given {
            let resources = spec.domain.resources
            if let quantity = resources?.limits?["cpu"] ?? resources?.requests?["cpu"] {
                let milli = quantity.milliValue
                sockets = Int(clamping: (milli + 999) / 1000)
            }
        }
        sockets = max(sockets, 1)
        cores = max(cores, 1)
        threads = max(threads, 1)
        maxSockets = sockets
        if let requested = cpu?.maxSockets, requested > 0 {
            if Int(requested) < sockets {
                invalid(field("domain.cpu.maxSockets"),
                    "Invalid value: \(requested): must be greater than or equal to sockets (\(sockets))")
            } else {
                maxSockets = Int(requested)
            }
        }
    }

    /// `-smp`: the vCPUs enabled at boot and, with `maxSockets`, room to hotplug more sockets.
    func smpText() -> String {
        var smp = QEMUOptionList()
        smp.add("cpus", vcpus)
        if maxSockets > sockets { smp.add("maxcpus", maxSockets * cores * threads) }
        smp.add("sockets", maxSockets)
        smp.add("cores", cores)
        smp.add("threads", threads)
        return smp.text
    }

    /// `cpu.features`: `[{name, policy}]`; `require`, `force` and `optional` turn a feature on, `disable`
    /// and `forbid` turn it off (policy defaults to `require`, as in KubeVirt).
    mutating func readCPUFeatures(_ features: JSONValue?) {
        guard let features, !features.isNull else { return }
        let base = field("domain.cpu.features")
        guard let list = features.arrayValue else {
            invalid(base, "must be a list of {name, policy}")
            return
        }
        for (i, item) in list.enumerated() {
            let path = "\(base)[\(i)]"
            guard let name = item["name"]?.stringValue, Self.isCPUName(name) else {
                required("\(path).name", "Required value: a CPU feature name such as vmx or pcid")
                continue
            }
            let policy = item["policy"]?.stringValue ?? "require"
            switch policy {
            case "require", "force", "optional": cpuProperties.append((name, "on"))
            case "disable", "forbid": cpuProperties.append((name, "off"))
            default:
                invalid("\(path).policy",
                    "Unsupported value: \(Self.quoted(policy)): supported values: \"force\", \"require\", \"optional\", \"disable\", \"forbid\"")
            }
        }
    }

    // MARK: - Memory

    /// The guest memory in MiB (rounded up): `memory.guest`, else the memory request, else the limit.
    mutating func readMemory() -> Int64 {
        let memory = spec.domain.memory
        if memory?.hugepages != nil {
            unsupported(field("domain.memory.hugepages"), "hugepages backing is not supported yet; remove hugepages")
        }
        let resources = spec.domain.resources
        guard let quantity = memory?.guest ?? resources?.requests?["memory"] ?? resources?.limits?["memory"] else {
            required(field("domain.memory.guest"),
                "Required value: set spec.domain.memory.guest or spec.domain.resources.requests.memory to the guest's memory size")
            return 1
        }
        let bytes = quantity.bytes
        let mebibyte: Int64 = 1 << 20
        guard bytes >= mebibyte else {
            invalid(memory?.guest != nil ? field("domain.memory.guest") : field("domain.resources.requests.memory"),
                "Invalid value: \(Self.quoted(quantity.text)): the guest needs at least 1Mi of memory")
            return 1
        }
        let mib = bytes / mebibyte + (bytes % mebibyte == 0 ? 0 : 1)
        if let maxGuest = memory?.maxGuest, maxGuest.bytes != bytes {
            unsupported(field("domain.memory.maxGuest"),
                "memory hotplug is not supported yet; remove maxGuest or set it equal to the guest memory")
        }
        return mib
    }

    // MARK: - Features

    /// KubeVirt hyperv feature → QEMU `-cpu` flag.
    static let hypervFlags: [(String, String)] = [
        ("relaxed", "hv-relaxed"), ("vapic", "hv-vapic"), ("spinlocks", "hv-spinlocks"), ("vpindex", "hv-vpindex"),
        ("runtime", "hv-runtime"), ("synic", "hv-synic"), ("synictimer", "hv-stimer"), ("reset", "hv-reset"),
        ("frequencies", "hv-frequencies"), ("reenlightenment", "hv-reenlightenment"), ("tlbflush", "hv-tlbflush"),
        ("ipi", "hv-ipi"), ("evmcs", "hv-evmcs"), ("vendorid", "hv-vendor-id"),
    ]

    /// `domain.features`: acpi, apic, smm, hyperv, hypervPassthrough, kvm, pvspinlock.
    mutating func readFeatures() {
        guard let features = spec.domain.features, !features.isNull else { return }
        let base = field("domain.features")
        guard let object = features.objectValue else {
            invalid(base, "must be an object")
            return
        }
        for key in object.keys.sorted() {
            let value = object[key] ?? .null
            let path = "\(base).\(key)"
            switch key {
            case "acpi":
                if !Self.enabled(value) { machineProperties.append(("acpi", "off")) }
            case "apic":
                if !Self.enabled(value) {
                    unsupported(path, "an x86-64 guest without an APIC is not supported; remove apic or enable it")
                } else if value["endOfInterrupt"]?.boolValue == true {
                    unsupported("\(path).endOfInterrupt", "the APIC end-of-interrupt setting is not supported; remove endOfInterrupt")
                }
            case "smm":
                machineProperties.append(("smm", Self.enabled(value) ? "on" : "off"))
            case "hyperv":
                readHyperv(value, path: path)
            case "hypervPassthrough":
                if Self.enabled(value) { appendHyperv("hv-passthrough", "on") }
            case "kvm":
                if value["hidden"]?.boolValue == true { cpuProperties.append(("kvm", "off")) }
            case "pvspinlock":
                // A KVM paravirtual interface: under TCG the guest sees no KVM, so there is nothing to set.
                if context.accelerator == .kvm {
                    cpuProperties.append(("kvm-pv-unhalt", Self.enabled(value) ? "on" : "off"))
                }
            default:
                unsupported(path, "the feature \(Self.quoted(key)) is not supported; remove it")
            }
        }
    }

    /// `features.hyperv`: each present feature is on unless `enabled: false`. Dependencies are turned on as
    /// KubeVirt's defaulting does (synic and tlbflush and ipi need vpindex, synictimer needs synic and
    /// the Hyper-V clock, evmcs needs vapic).
    mutating func readHyperv(_ value: JSONValue, path: String) {
        guard let object = value.objectValue else {
            invalid(path, "must be an object")
            return
        }
        let known = Set(Self.hypervFlags.map(\.0))
        for key in object.keys.sorted() where !known.contains(key) {
            unsupported("\(path).\(key)", "the Hyper-V enlightenment \(Self.quoted(key)) is not supported; remove it")
        }
        var on: Set<String> = []
        for (key, _) in Self.hypervFlags where object[key].map(Self.enabled) == true { on.insert(key) }
        var changed = true
        while changed {
            let before = on.count
            if !on.isDisjoint(with: ["synic", "tlbflush", "ipi"]) { on.insert("vpindex") }
            if on.contains("synictimer") { on.insert("synic") }
            if on.contains("evmcs") { on.insert("vapic") }
            changed = on.count != before
        }
        for dependency in on where object[dependency].map(Self.enabled) == false {
            invalid("\(path).\(dependency).enabled", "Invalid value: false: other enabled Hyper-V features need \(dependency); enable it")
        }
        if on.contains("synictimer") && !hypervClockRequested {
            appendHyperv("hv-time", "on")
        }
        for (key, flag) in Self.hypervFlags where on.contains(key) {
            switch key {
            case "spinlocks":
                let retries = object[key]?["spinlocks"]?.intValue ?? 4096
                if retries < 4095 {
                    invalid("\(path).spinlocks.spinlocks", "Invalid value: \(retries): must be at least 4095")
                }
                appendHyperv(flag, "0x" + String(retries, radix: 16))
            case "vendorid":
                let vendor = object[key]?["vendorid"]?.stringValue ?? ""
                if vendor.isEmpty || vendor.utf8.count > 12 {
                    invalid("\(path).vendorid.vendorid", "Invalid value: \(Self.quoted(vendor)): must be 1 to 12 characters")
                }
                appendHyperv(flag, vendor)
            case "synictimer":
                appendHyperv(flag, "on")
                if object[key]?["direct"].map(Self.enabled) == true { appendHyperv("hv-stimer-direct", "on") }
            case "tlbflush":
                appendHyperv(flag, "on")
                if object[key]?["direct"].map(Self.enabled) == true { appendHyperv("hv-tlbflush-direct", "on") }
                if object[key]?["extended"].map(Self.enabled) == true { appendHyperv("hv-tlbflush-ext", "on") }
            default:
                appendHyperv(flag, "on")
            }
        }
    }

    /// Hyper-V enlightenments are an interface KVM offers the guest; under TCG there is none, and QEMU
    /// refuses some of them (`hv-vpindex`), so they are left out there: the guest runs without them.
    mutating func appendHyperv(_ flag: String, _ value: String) {
        if context.accelerator == .kvm { cpuProperties.append((flag, value)) }
    }

    /// Whether `clock.timer.hyperv` asks for the Hyper-V reference clock (rendered by `readClock`).
    var hypervClockRequested: Bool {
        spec.domain.clock?["timer"]?["hyperv"].map(Self.timerPresent) == true
    }

    /// KubeVirt's `FeatureState`: present means on unless `enabled: false`.
    static func enabled(_ value: JSONValue) -> Bool {
        value["enabled"]?.boolValue ?? true
    }

    /// A timer is present unless `present: false`.
    static func timerPresent(_ value: JSONValue) -> Bool {
        value["present"]?.boolValue ?? true
    }

    // MARK: - Clock

    /// `domain.clock`: UTC (the default), and the timers QEMU can tune.
    mutating func readClock() {
        guard let clock = spec.domain.clock, !clock.isNull else { return }
        let base = field("domain.clock")
        guard let object = clock.objectValue else {
            invalid(base, "must be an object")
            return
        }
        for key in object.keys.sorted() {
            let value = object[key] ?? .null
            switch key {
            case "utc":
                if let offset = value["offsetSeconds"]?.intValue, offset != 0 {
                    unsupported("\(base).utc.offsetSeconds", "a clock offset from UTC is not supported yet; remove offsetSeconds")
                }
            case "timezone":
                unsupported("\(base).timezone", "a guest clock in a time zone is not supported yet; use utc: {}")
            case "timer":
                readTimers(value, path: "\(base).timer")
            default:
                unsupported("\(base).\(key)", "the clock setting \(Self.quoted(key)) is not supported; remove it")
            }
        }
    }

    mutating func readTimers(_ timers: JSONValue, path: String) {
        guard let object = timers.objectValue else {
            invalid(path, "must be an object")
            return
        }
        for key in object.keys.sorted() {
            let timer = object[key] ?? .null
            let timerPath = "\(path).\(key)"
            let present = Self.timerPresent(timer)
            let policy = timer["tickPolicy"]?.stringValue
            switch key {
            case "hpet":
                if !present { machineProperties.append(("hpet", "off")) }
                if policy != nil { unsupported("\(timerPath).tickPolicy", "QEMU has no tick policy for the HPET; remove tickPolicy") }
            case "pit":
                if !present { machineProperties.append(("pit", "off")) }
                switch policy {
                case nil: break
                case "delay", "discard":
                    // Only the in-kernel PIT of KVM has a lost-tick policy; TCG's PIT does not lose ticks.
                    if context.accelerator == .kvm { globals.append("kvm-pit.lost_tick_policy=\(policy ?? "")") }
                default:
                    unsupported("\(timerPath).tickPolicy", "Unsupported value: \(Self.quoted(policy ?? "")): supported values: \"delay\", \"discard\"")
                }
            case "rtc":
                if !present { unsupported("\(timerPath).present", "the RTC cannot be removed; remove present: false") }
                switch policy {
                case nil, "delay": break
                case "catchup": rtcProperties.append(("driftfix", "slew"))
                default:
                    unsupported("\(timerPath).tickPolicy", "Unsupported value: \(Self.quoted(policy ?? "")): supported values: \"delay\", \"catchup\"")
                }
                switch timer["track"]?.stringValue {
                case nil: break
                case "guest": rtcProperties.append(("clock", "vm"))
                case "wall": rtcProperties.append(("clock", "host"))
                case let other?:
                    unsupported("\(timerPath).track", "Unsupported value: \(Self.quoted(other)): supported values: \"guest\", \"wall\"")
                }
            case "kvm":
                if !present && context.accelerator == .kvm { cpuProperties.append(("kvmclock", "off")) }
            case "hyperv":
                if present { appendHyperv("hv-time", "on") }
            default:
                unsupported(timerPath, "the timer \(Self.quoted(key)) is not supported; remove it")
            }
        }
    }

    // MARK: - Everything else in domain

    /// Domain fields with no QEMU rendering yet.
    mutating func readUnsupportedDomainFields() {
        let domain = spec.domain
        if domain.launchSecurity != nil {
            unsupported(field("domain.launchSecurity"), "confidential computing (SEV, SNP, TDX) is not supported; remove launchSecurity")
        }
        if domain.chassis != nil {
            unsupported(field("domain.chassis"), "SMBIOS chassis information is not supported yet; remove chassis")
        }
        if let architecture = spec.architecture, !["", "amd64", "x86_64"].contains(architecture) {
            unsupported(field("architecture"), "Unsupported value: \(Self.quoted(architecture)): supported values: \"amd64\"")
        }
        if let policy = domain.rebootPolicy {
            switch policy {
            case "Reboot": break
            case "Terminate": actions.append(("reboot", "shutdown"))
            default:
                unsupported(field("domain.rebootPolicy"), "Unsupported value: \(Self.quoted(policy)): supported values: \"Reboot\", \"Terminate\"")
            }
        }
    }

    /// A value quoted as JSON, the way Kubernetes quotes values in field errors.
    static func quoted(_ value: String) -> String {
        JSONValue.string(value).serialized()
    }
}
