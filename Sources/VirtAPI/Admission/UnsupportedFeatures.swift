import VirtError

/// What a VirtualMachineInstance may ask for that SwiftVirt does not run yet: refused at admission with
/// its path, so nothing is silently run as something else (a bridge as user-mode NAT, a PVC as nothing).
///
/// One table per root, path → reason. When the node agent learns a feature, its entry goes (and its line
/// in README's "What a VMI may use today" moves to the supported side). `specEntries` paths are relative
/// to a VMI spec — `spec` of a VMI, `spec.template.spec` of a VirtualMachine — and `[*]` stands for every
/// element of a list; `virtualMachineEntries` paths start at the VirtualMachine's root.
///
/// Only what the converter and the node agent ignore or cannot provide is here. Values of fields they do
/// read (machine type, CPU model, bus names, timer policies) are checked by the validator and the
/// converter; what depends on the node (KVM, direct I/O) is decided when the VM starts.
enum UnsupportedFeatures {
    /// One refusal: where, why, and where a given object uses it.
    struct Entry<Root>: Sendable {
        /// The field, `[*]` for every element (`domain.devices.interfaces[*].bridge`).
        let path: String
        /// The cause's message: what is not supported yet and what to use instead.
        let reason: String
        /// The concrete paths (with indices) where `root` uses the field; empty when it does not.
        let uses: @Sendable (Root) -> [String]

        /// A field refused when `used` says it is set.
        static func field(_ path: String, _ reason: String, when used: @escaping @Sendable (Root) -> Bool) -> Entry {
            Entry(path: path, reason: reason) { used($0) ? [path] : [] }
        }

        /// A member of each element of `list` (or the element itself, `member` nil), refused in the
        /// elements where `used` says it is set.
        static func each<Element>(
            _ list: String, _ member: String?, _ reason: String,
            in elements: @escaping @Sendable (Root) -> [Element]?, when used: @escaping @Sendable (Element) -> Bool
        ) -> Entry {
            let suffix = member.map { ".\($0)" } ?? ""
            return Entry(path: "\(list)[*]\(suffix)", reason: reason) { root in
                (elements(root) ?? []).enumerated().compactMap { i, element in used(element) ? "\(list)[\(i)]\(suffix)" : nil }
            }
        }
    }

    /// Field causes for every use of an unsupported feature in a VMI spec at `prefix` (`spec`,
    /// `spec.template.spec`).
    static func causes(in spec: VirtualMachineInstanceSpec, prefix: String) -> [VirtError.Cause] {
        causes(specEntries, in: spec, prefix: "\(prefix).")
    }

    /// Field causes for the VirtualMachine-level fields (its template's spec is checked by `causes(in:prefix:)`).
    static func causes(in vm: VirtualMachineSpec) -> [VirtError.Cause] {
        causes(virtualMachineEntries, in: vm, prefix: "")
    }

    static func causes<Root>(_ entries: [Entry<Root>], in root: Root, prefix: String) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        for entry in entries {
            for path in entry.uses(root) {
                causes.append(VirtError.Cause(reason: "FieldValueNotSupported", message: entry.reason, field: prefix + path))
            }
        }
        return causes
    }

    // MARK: - The tables

    typealias SpecEntry = Entry<VirtualMachineInstanceSpec>

    /// What runs instead, named in the networking reasons.
    static let usePodNetwork = "use masquerade: {} on the pod network (pod: {}) or bridge: {}"
    static let useLocalDisk = "use a containerDisk, emptyDisk or hostDisk volume"

    static let specEntries: [SpecEntry] = networkEntries + storageEntries + domainEntries + schedulingEntries

    /// Interfaces and networks: the node runs masquerade on the pod network (a tap behind NAT in the pod's
    /// namespace, its ports forwarded, the guest's address, vmNetworkCIDR and dhcpOptions from the agent's
    /// DHCP answers), so the other bindings and network sources are refused. (slirp, macvtap and the old
    /// passt binding are refused by the validator: KubeVirt dropped them.)
    static let networkEntries: [SpecEntry] = {
        let interfaces = "domain.devices.interfaces"
        let list: @Sendable (VirtualMachineInstanceSpec) -> [Interface]? = { $0.domain.devices.interfaces }
        let networks: @Sendable (VirtualMachineInstanceSpec) -> [Network]? = { $0.networks }
        return [
            .each(interfaces, "sriov", "SR-IOV passthrough is not supported yet; \(usePodNetwork)", in: list) { $0.sriov != nil },
            .each(interfaces, "passtBinding", "the passt binding is not supported yet; \(usePodNetwork)", in: list) { $0.passtBinding != nil },
            .each(interfaces, "binding", "network binding plugins are not supported yet; \(usePodNetwork)", in: list) { $0.binding != nil },
            .each(interfaces, "portRanges",
                  "forwarding port ranges into the guest is not supported yet; list each port in ports instead",
                  in: list) { !($0.portRanges ?? []).isEmpty },
            .each(interfaces, "tag", "device role tags are not supported yet; remove tag", in: list) { !($0.tag ?? "").isEmpty },
            .each(interfaces, "pciAddress", "placing an interface at a fixed PCI address is not supported yet; remove pciAddress",
                  in: list) { !($0.pciAddress ?? "").isEmpty },
            .each(interfaces, "state", "starting an interface with its link down is not supported yet; remove state or set it to up",
                  in: list) { $0.state == "down" },
            .field("domain.devices.networkInterfaceMultiqueue",
                   "multi-queue network interfaces are not supported yet (each interface's tap has one queue); remove networkInterfaceMultiqueue") {
                $0.domain.devices.networkInterfaceMultiqueue == true
            },
            .each("networks", "resourceClaim",
                  "networks from resource claims are not supported yet; use the pod network (pod: {}) with a masquerade interface",
                  in: networks) { present($0.resourceClaim) },
            .each("networks", "pod.vmIPv6NetworkCIDR",
                  "choosing the guest's IPv6 network is not supported yet (the pod network is IPv4 only); remove vmIPv6NetworkCIDR",
                  in: networks) { !($0.pod?.vmIPv6NetworkCIDR ?? "").isEmpty },
            .field("dnsPolicy", "guest DNS settings are not supported yet (the guest is told the node's resolvers); remove dnsPolicy") {
                !($0.dnsPolicy ?? "").isEmpty
            },
            .field("dnsConfig", "guest DNS settings are not supported yet (the guest is told the node's resolvers); remove dnsConfig") {
                present($0.dnsConfig)
            },
            .field("subdomain", "a DNS subdomain for the guest is not supported yet (SwiftVirt serves no cluster DNS); remove subdomain") {
                !($0.subdomain ?? "").isEmpty
            },
        ]
    }()

    /// Volumes the node agent does not prepare (it prepares containerDisk, emptyDisk, hostDisk,
    /// persistentVolumeClaim, dataVolume, cloudInitNoCloud and cloudInitConfigDrive), and disk settings the converter does not render.
    static let storageEntries: [SpecEntry] = {
        let volumes: @Sendable (VirtualMachineInstanceSpec) -> [Volume]? = { $0.volumes }
        let disks = "domain.devices.disks"
        let diskList: @Sendable (VirtualMachineInstanceSpec) -> [Disk]? = { $0.domain.devices.disks }
        return [
            .each("volumes", "persistentVolumeClaim.hotpluggable", "hotplugged persistentVolumeClaim volumes are not supported yet; remove hotpluggable",
                  in: volumes) { $0.persistentVolumeClaim?.hotpluggable == true },
            .each("volumes", "dataVolume.hotpluggable", "hotplugged dataVolume volumes are not supported yet; remove hotpluggable",
                  in: volumes) { $0.dataVolume?.hotpluggable == true },
            .each("volumes", "ephemeral", "ephemeral volumes are not supported yet; use a containerDisk volume for a throw-away disk",
                  in: volumes) { $0.ephemeral != nil },
            .each("volumes", "sysprep", "sysprep volumes are not supported yet; use a cloudInitNoCloud or cloudInitConfigDrive volume",
                  in: volumes) { present($0.sysprep) },
            .each("volumes", "configMap",
                  "configMap volumes are not supported yet; pass the data in a cloudInitNoCloud or cloudInitConfigDrive volume",
                  in: volumes) { present($0.configMap) },
            .each("volumes", "secret",
                  "secret volumes are not supported yet; pass the data in a cloudInitNoCloud or cloudInitConfigDrive volume (secretRef reads a Secret)",
                  in: volumes) { present($0.secret) },
            .each("volumes", "downwardAPI",
                  "downwardAPI volumes are not supported yet; pass the data in a cloudInitNoCloud or cloudInitConfigDrive volume",
                  in: volumes) { present($0.downwardAPI) },
            .each("volumes", "serviceAccount", "serviceAccount volumes are not supported yet; remove the volume and its disk",
                  in: volumes) { present($0.serviceAccount) },
            .each("volumes", "downwardMetrics", "downwardMetrics volumes are not supported yet; remove the volume and its disk",
                  in: volumes) { present($0.downwardMetrics) },
            .each("volumes", "memoryDump", "memoryDump volumes are not supported yet; remove the volume",
                  in: volumes) { present($0.memoryDump) },
            .each("volumes", "containerPath", "containerPath volumes are not supported yet; remove the volume",
                  in: volumes) { present($0.containerPath) },
            .each(disks, "lun", "SCSI LUN passthrough is not supported yet; use disk: {bus: scsi}", in: diskList) { $0.lun != nil },
            .each(disks, "disk.pciAddress", "placing a disk at a fixed PCI address is not supported yet; remove pciAddress",
                  in: diskList) { !($0.disk?.pciAddress ?? "").isEmpty },
            .each(disks, "cdrom.tray", "an open (empty) CD-ROM tray is not supported yet; remove tray or set it to closed",
                  in: diskList) { $0.cdrom?.tray == "open" },
            .each(disks, "cdrom.readonly", "a writable CD-ROM is not supported yet; remove readonly: false, or use disk: {} for a writable disk",
                  in: diskList) { $0.cdrom?.readonly == false },
            .each(disks, "changedBlockTracking", "changed block tracking is not supported yet; remove changedBlockTracking",
                  in: diskList) { $0.changedBlockTracking == true },
            .each(disks, "blockSize.matchVolume", "matching the volume's block size is not supported yet; set blockSize.custom instead",
                  in: diskList) { present($0.blockSize?["matchVolume"]) },
            .each(disks, "tag", "device role tags are not supported yet; remove tag", in: diskList) { !($0.tag ?? "").isEmpty },
        ]
    }()

    /// `spec.domain` beyond disks and interfaces.
    static let domainEntries: [SpecEntry] = {
        let devices = "domain.devices"
        return [
            .field("domain.cpu.dedicatedCpuPlacement",
                   "dedicated CPU placement (pinning vCPUs to host CPUs) is not supported yet; remove dedicatedCpuPlacement") {
                $0.domain.cpu?.dedicatedCpuPlacement == true
            },
            .field("domain.cpu.isolateEmulatorThread",
                   "isolating the emulator thread (it needs dedicated CPU placement) is not supported yet; remove isolateEmulatorThread") {
                $0.domain.cpu?.isolateEmulatorThread == true
            },
            .field("domain.cpu.numa", "a guest NUMA topology is not supported yet; remove numa") { present($0.domain.cpu?.numa) },
            .field("domain.cpu.realtime", "realtime vCPUs are not supported yet; remove realtime") { present($0.domain.cpu?.realtime) },
            .field("domain.memory.hugepages", "hugepages backing is not supported yet; remove hugepages") {
                present($0.domain.memory?.hugepages)
            },
            .field("domain.memory.maxGuest", "memory hotplug is not supported yet; remove maxGuest or set it equal to the guest memory") {
                guard let maxGuest = $0.domain.memory?.maxGuest else { return false }
                let resources = $0.domain.resources
                let guest = $0.domain.memory?.guest ?? resources?.requests?["memory"] ?? resources?.limits?["memory"]
                return guest?.bytes != maxGuest.bytes
            },
            .field("domain.memory.reservedOverhead", "reserving extra memory overhead is not supported yet; remove reservedOverhead") {
                present($0.domain.memory?.reservedOverhead)
            },
            .field("domain.firmware.bootloader.efi",
                   "UEFI boot is not supported yet (the node agent gives QEMU no OVMF firmware yet); use bios: {}, or no bootloader") {
                $0.domain.firmware?.bootloader?.efi != nil
            },
            .field("domain.firmware.acpi", "custom ACPI tables are not supported yet; remove acpi") { present($0.domain.firmware?.acpi) },
            .field("domain.clock.timezone", "a guest clock in a time zone is not supported yet; use utc: {}") {
                present($0.domain.clock?["timezone"])
            },
            .field("domain.clock.utc.offsetSeconds", "a guest clock offset from UTC is not supported yet; remove offsetSeconds") {
                ($0.domain.clock?[path: ["utc", "offsetSeconds"]]?.intValue ?? 0) != 0
            },
            .field("domain.features.apic.endOfInterrupt", "the APIC end-of-interrupt setting is not supported yet; remove endOfInterrupt") {
                $0.domain.features?[path: ["apic", "endOfInterrupt"]]?.boolValue == true
            },
            .field("domain.ioThreadsPolicy", "the auto and supplementalPool I/O thread policies are not supported yet; use shared") {
                ["auto", "supplementalPool"].contains($0.domain.ioThreadsPolicy ?? "")
            },
            .field("domain.ioThreads", "a supplemental I/O thread pool is not supported yet; remove ioThreads") { present($0.domain.ioThreads) },
            .field("domain.chassis", "SMBIOS chassis information is not supported yet; remove chassis") { present($0.domain.chassis) },
            .field("domain.launchSecurity", "confidential computing (SEV, SNP, TDX) is not supported yet; remove launchSecurity") {
                present($0.domain.launchSecurity)
            },
            .field("\(devices).autoattachVSOCK", "VSOCK is not supported yet; remove autoattachVSOCK") {
                $0.domain.devices.autoattachVSOCK == true
            },
            .field("\(devices).gpus", "GPU passthrough is not supported yet; remove gpus") { !($0.domain.devices.gpus ?? []).isEmpty },
            .field("\(devices).hostDevices", "host device passthrough is not supported yet; remove hostDevices") {
                !($0.domain.devices.hostDevices ?? []).isEmpty
            },
            .field("\(devices).filesystems", "virtiofs file systems are not supported yet; share files through a disk instead") {
                !($0.domain.devices.filesystems ?? []).isEmpty
            },
            .field("\(devices).panicDevices", "panic devices are not supported yet; remove panicDevices") {
                !($0.domain.devices.panicDevices ?? []).isEmpty
            },
            .field("\(devices).downwardMetrics", "the downward metrics device is not supported yet; remove downwardMetrics") {
                present($0.domain.devices.downwardMetrics)
            },
            .field("\(devices).clientPassthrough", "USB client passthrough is not supported yet; remove clientPassthrough") {
                present($0.domain.devices.clientPassthrough)
            },
            .field("\(devices).sound", "sound devices are not supported yet; remove sound") { present($0.domain.devices.sound) },
            .field("\(devices).tpm", "an emulated TPM is not supported yet; remove tpm") { present($0.domain.devices.tpm) },
            .field("\(devices).watchdog.diag288", "the diag288 watchdog (s390x) is not supported yet; use i6300esb: {}") {
                present($0.domain.devices.watchdog?["diag288"])
            },
        ]
    }()

    /// How and where the VMI runs: what the controllers and the scheduler do not honour yet.
    static let schedulingEntries: [SpecEntry] = [
        .field("architecture", "guest architectures other than amd64 are not supported yet; remove architecture or set it to amd64") {
            !["", "amd64", "x86_64"].contains($0.architecture ?? "")
        },
        .field("evictionStrategy",
               "live migration is not supported yet, so an evicted VMI is stopped; remove evictionStrategy or set it to None") {
            ["LiveMigrate", "LiveMigrateIfPossible", "External"].contains($0.evictionStrategy ?? "")
        },
        .field("livenessProbe", "liveness probes are not supported yet; remove livenessProbe") { present($0.livenessProbe) },
        .field("readinessProbe", "readiness probes are not supported yet; remove readinessProbe") { present($0.readinessProbe) },
        .field("accessCredentials", "injecting access credentials is not supported yet; put SSH keys and passwords in cloud-init user data") {
            !($0.accessCredentials ?? []).isEmpty
        },
        .field("resourceClaims", "dynamic resource claims are not supported yet; remove resourceClaims") { !($0.resourceClaims ?? []).isEmpty },
        .field("utilityVolumes", "utility volumes are not supported yet; remove utilityVolumes") { !($0.utilityVolumes ?? []).isEmpty },
        .field("affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution",
               "required pod affinity is not supported yet (the scheduler does not place VMIs by other pods yet); use nodeSelector or required node affinity") {
            present($0.affinity?[path: ["podAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]])
        },
        .field("affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
               "required pod anti-affinity is not supported yet (the scheduler does not place VMIs by other pods yet); use nodeSelector or required node affinity") {
            present($0.affinity?[path: ["podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]])
        },
        .each("topologySpreadConstraints", "whenUnsatisfiable",
              "topology spread constraints that must hold are not supported yet (the scheduler does not spread VMIs yet); use whenUnsatisfiable: ScheduleAnyway or remove the constraint",
              in: { $0.topologySpreadConstraints }) { $0["whenUnsatisfiable"]?.stringValue != "ScheduleAnyway" },
    ]

    /// VirtualMachine fields the VM controller does not act on yet.
    static let virtualMachineEntries: [Entry<VirtualMachineSpec>] = [
        .field("spec.instancetype", "instance types are not supported yet; set CPU and memory in spec.template.spec.domain") {
            present($0.instancetype)
        },
        .field("spec.preference", "preferences are not supported yet; set the devices in spec.template.spec.domain") {
            present($0.preference)
        },
        .field("spec.runStrategy", "the WaitAsReceiver run strategy (waiting for a live migration) is not supported yet; use Manual or Always") {
            $0.runStrategy == "WaitAsReceiver"
        },
        .field("spec.updateVolumesStrategy", "updating volumes by migration is not supported yet; remove updateVolumesStrategy or set it to Replacement") {
            $0.updateVolumesStrategy == "Migration"
        },
    ]

    /// Whether an opaque field is set (`null` counts as unset).
    static func present(_ value: JSONValue?) -> Bool {
        value.map { !$0.isNull } ?? false
    }
}
