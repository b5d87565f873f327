import Foundation
import Testing
import VirtError

@testable import VirtAPI

/// Admission refuses what the node agent does not run yet, at its full path and saying so, in a VMI and
/// in a VirtualMachine's template alike; what it does run stays accepted.
@Suite struct UnsupportedFeaturesTests {
    /// A VMI spec SwiftVirt runs: a containerDisk, a NoCloud seed, masquerade on the pod network.
    static let runnableSpec: JSONValue = [
        "domain": [
            "resources": ["requests": ["memory": "256Mi"]],
            "devices": [
                "disks": [["name": "root", "disk": ["bus": "virtio"]], ["name": "seed", "disk": ["bus": "virtio"]]],
                "interfaces": [["name": "default", "masquerade": [:]]],
            ],
        ],
        "networks": [["name": "default", "pod": [:]]],
        "volumes": [
            ["name": "root", "containerDisk": ["image": "/var/lib/swiftvirt/guest/disk.qcow2"]],
            ["name": "seed", "cloudInitNoCloud": ["userData": "#cloud-config\n"]],
        ],
    ]

    /// A change to `runnableSpec` and the paths (relative to the spec) admission must refuse.
    struct Change: Sendable, CustomTestStringConvertible {
        let refused: [String]
        let edit: @Sendable (inout JSONValue) -> Void
        let testDescription: String

        init(_ name: String, refused: [String], _ edit: @escaping @Sendable (inout JSONValue) -> Void) {
            self.testDescription = name
            self.refused = refused
            self.edit = edit
        }

        /// A change refused at the one path it sets.
        init(_ path: String, _ edit: @escaping @Sendable (inout JSONValue) -> Void) {
            self.init(path, refused: [path], edit)
        }
    }

    static let interfaces = ["domain", "devices", "interfaces"]
    static let disks = ["domain", "devices", "disks"]

    /// Edits element `index` of the list at `path`.
    static func element(_ spec: inout JSONValue, _ path: [String], _ index: Int, _ change: (inout JSONValue) -> Void) {
        var list = spec[path: path]?.arrayValue ?? []
        change(&list[index])
        spec[path: path] = .array(list)
    }

    static func append(_ spec: inout JSONValue, _ path: [String], _ value: JSONValue) {
        spec[path: path] = .array((spec[path: path]?.arrayValue ?? []) + [value])
    }

    /// Interface 0 bound by `binding` instead of masquerade.
    static func binding(_ binding: String, _ value: JSONValue = [:]) -> Change {
        Change("domain.devices.interfaces[0].\(binding)") { spec in
            element(&spec, interfaces, 0) { $0["masquerade"] = nil; $0[binding] = value }
        }
    }

    /// Interface 0 with `key` set as well.
    static func interfaceField(_ key: String, _ value: JSONValue) -> Change {
        Change("domain.devices.interfaces[0].\(key)") { spec in element(&spec, interfaces, 0) { $0[key] = value } }
    }

    /// Volume 0 (the root disk) from `source` instead of a containerDisk.
    static func volume(_ source: String, _ value: JSONValue) -> Change {
        Change("volumes[0].\(source)") { spec in
            element(&spec, ["volumes"], 0) { $0["containerDisk"] = nil; $0[source] = value }
        }
    }

    /// Disk 0 changed by `change`, refused at `member`.
    static func disk(_ member: String, _ change: @escaping @Sendable (inout JSONValue) -> Void) -> Change {
        Change("domain.devices.disks[0].\(member)") { spec in element(&spec, disks, 0, change) }
    }

    /// `value` set at `path` (dotted, relative to the spec).
    static func set(_ path: String, _ value: JSONValue) -> Change {
        Change(path) { $0[path: path.split(separator: ".").map(String.init)] = value }
    }

    static let refusedChanges: [Change] = [
        // Interfaces and networks.
        binding("sriov"), binding("passtBinding"),
        binding("binding", ["name": "passt"]),
        interfaceField("portRanges", [["start": 8000, "end": 8080]]),
        interfaceField("tag", "uplink"),
        interfaceField("pciAddress", "0000:81:01.0"),
        interfaceField("state", "down"),
        set("domain.devices.networkInterfaceMultiqueue", true),
        Change("a resource claim network on an SR-IOV interface", refused: ["domain.devices.interfaces[0].sriov", "networks[0].resourceClaim"]) { spec in
            element(&spec, interfaces, 0) { $0["masquerade"] = nil; $0["sriov"] = [:] }
            element(&spec, ["networks"], 0) { $0["pod"] = nil; $0["resourceClaim"] = ["claimName": "nic", "requestName": "vf"] }
        },
        Change("networks[0].pod.vmIPv6NetworkCIDR") { spec in
            element(&spec, ["networks"], 0) { $0["pod"] = ["vmIPv6NetworkCIDR": "fd10:0:2::/120"] }
        },
        set("dnsPolicy", "None"),
        set("dnsConfig", ["nameservers": ["192.0.2.53"]]),
        set("subdomain", "guests"),

        // Volumes and disks.
        Change("volumes[0].persistentVolumeClaim.hotpluggable") { spec in
            element(&spec, ["volumes"], 0) { $0["containerDisk"] = nil; $0["persistentVolumeClaim"] = ["claimName": "root", "hotpluggable": true] }
        },
        Change("volumes[0].dataVolume.hotpluggable") { spec in
            element(&spec, ["volumes"], 0) { $0["containerDisk"] = nil; $0["dataVolume"] = ["name": "root", "hotpluggable": true] }
        },
        volume("ephemeral", ["persistentVolumeClaim": ["claimName": "root"]]),
        volume("sysprep", ["configMap": ["name": "unattend"]]),
        volume("configMap", ["name": "settings"]),
        volume("secret", ["secretName": "keys"]),
        volume("downwardAPI", ["fields": [["path": "labels", "fieldRef": ["fieldPath": "metadata.labels"]]]]),
        volume("serviceAccount", ["serviceAccountName": "default"]),
        volume("downwardMetrics", [:]),
        volume("memoryDump", ["claimName": "dump"]),
        volume("containerPath", ["path": "/var/run/secrets"]),
        disk("lun") { $0["disk"] = nil; $0["lun"] = ["bus": "scsi"] },
        disk("disk.pciAddress") { $0["disk"] = ["bus": "virtio", "pciAddress": "0000:81:01.0"] },
        disk("cdrom.tray") { $0["disk"] = nil; $0["cdrom"] = ["bus": "sata", "tray": "open"] },
        disk("cdrom.readonly") { $0["disk"] = nil; $0["cdrom"] = ["bus": "sata", "readonly": false] },
        disk("changedBlockTracking") { $0["changedBlockTracking"] = true },
        disk("blockSize.matchVolume") { $0["blockSize"] = ["matchVolume": ["enabled": true]] },
        disk("tag") { $0["tag"] = "database" },

        // The rest of the domain.
        set("domain.cpu.dedicatedCpuPlacement", true),
        set("domain.cpu.isolateEmulatorThread", true),
        set("domain.cpu.numa", ["guestMappingPassthrough": [:]]),
        set("domain.cpu.realtime", [:]),
        set("domain.memory.hugepages", ["pageSize": "2Mi"]),
        set("domain.memory.maxGuest", "1Gi"),
        set("domain.memory.reservedOverhead", ["addedOverhead": "64Mi"]),
        set("domain.firmware.bootloader.efi", ["secureBoot": false]),
        set("domain.firmware.acpi", ["slicNameRef": "slic"]),
        set("domain.clock.timezone", "Europe/Berlin"),
        set("domain.clock.utc.offsetSeconds", 3600),
        set("domain.features.apic.endOfInterrupt", true),
        set("domain.ioThreadsPolicy", "auto"),
        set("domain.ioThreads", ["supplementalPoolThreadCount": 4]),
        set("domain.chassis", ["vendor": "SwiftVirt"]),
        set("domain.launchSecurity", ["sev": [:]]),
        set("domain.devices.autoattachVSOCK", true),
        set("domain.devices.gpus", [["name": "gpu0", "deviceName": "nvidia.com/GP102GL"]]),
        set("domain.devices.hostDevices", [["name": "dev0", "deviceName": "example.com/device"]]),
        set("domain.devices.filesystems", [["name": "share", "virtiofs": [:]]]),
        set("domain.devices.panicDevices", [["model": "isa"]]),
        set("domain.devices.downwardMetrics", [:]),
        set("domain.devices.clientPassthrough", [:]),
        set("domain.devices.sound", ["name": "audio"]),
        set("domain.devices.tpm", [:]),
        set("domain.devices.watchdog", ["name": "w", "diag288": ["action": "reset"]]).at("domain.devices.watchdog.diag288"),

        // Where and how the VMI runs.
        set("architecture", "arm64"),
        set("evictionStrategy", "LiveMigrate"),
        set("livenessProbe", ["tcpSocket": ["port": 22]]),
        set("readinessProbe", ["guestAgentPing": [:]]),
        set("accessCredentials", [["sshPublicKey": ["source": ["secret": ["secretName": "keys"]]]]]),
        set("resourceClaims", [["name": "gpu"]]),
        set("utilityVolumes", [["name": "u"]]),
        set("affinity", ["podAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [["topologyKey": "zone"]]]])
            .at("affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"),
        set("affinity", ["podAntiAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [["topologyKey": "kubernetes.io/hostname"]]]])
            .at("affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"),
        set("topologySpreadConstraints", [["maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"]])
            .at("topologySpreadConstraints[0].whenUnsatisfiable"),
    ]

    func vmi(_ spec: JSONValue) -> JSONValue {
        ["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": ["name": "vmi", "namespace": "default"], "spec": spec]
    }

    func vm(_ spec: JSONValue) -> JSONValue {
        ["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": ["name": "vm", "namespace": "default"],
         "spec": ["runStrategy": "Always", "template": ["metadata": ["labels": ["app": "vm"]], "spec": spec]]]
    }

    func validate(_ object: JSONValue) -> [VirtError.Cause] {
        Admission.validate(group: "kubevirt.io", kind: object["kind"]?.stringValue ?? "", object: object, old: nil)
    }

    /// The causes of `object`, after defaulting as the API server does on create.
    func admit(_ object: JSONValue) -> [VirtError.Cause] {
        var object = object
        Admission.applyDefaults(group: "kubevirt.io", kind: object["kind"]?.stringValue ?? "", object: &object)
        return validate(object)
    }

    /// The spec's paths with every index written `[*]`, as the table writes them.
    static func pattern(_ path: String) -> String {
        path.replacing(/\[[0-9]+\]/, with: "[*]")
    }

    // MARK: - Refused

    @Test func theRunnableSpecIsAccepted() {
        #expect(admit(vmi(Self.runnableSpec)) == [])
        #expect(admit(vm(Self.runnableSpec)) == [])
    }

    @Test(arguments: refusedChanges)
    func refusedInAVirtualMachineInstance(change: Change) {
        var spec = Self.runnableSpec
        change.edit(&spec)
        let causes = admit(vmi(spec))
        #expect(causes.map(\.field) == change.refused.map { "spec.\($0)" })
        for cause in causes {
            #expect(cause.reason == "FieldValueNotSupported")
            #expect(cause.message.contains("not supported yet"), "\(cause.field): \(cause.message)")
        }
    }

    @Test(arguments: refusedChanges)
    func refusedInAVirtualMachineTemplate(change: Change) {
        var spec = Self.runnableSpec
        change.edit(&spec)
        let causes = admit(vm(spec))
        #expect(causes.map(\.field) == change.refused.map { "spec.template.spec.\($0)" })
        #expect(causes.allSatisfy { $0.message.contains("not supported yet") })
    }

    @Test func theSRIOVRefusalSaysWhatToUse() {
        var spec = Self.runnableSpec
        Self.binding("sriov").edit(&spec)
        let cause = admit(vm(spec)).first
        #expect(cause?.field == "spec.template.spec.domain.devices.interfaces[0].sriov")
        #expect(cause?.message.hasSuffix("use masquerade: {} on the pod network (pod: {}) or bridge: {}") == true)
    }

    @Test func bridgeInterfacesOnMultusNetworksAreAdmitted() {
        var spec = Self.runnableSpec
        for name in ["b1", "b2"] {
            Self.append(&spec, Self.interfaces, ["name": .string(name), "bridge": [:]])
            Self.append(&spec, ["networks"], ["name": .string(name), "multus": ["networkName": .string("default/\(name)")]])
        }
        #expect(admit(vmi(spec)) == [])
        #expect(admit(vm(spec)) == [])
    }

    /// Every entry of the table has a change above that proves it, and every refusal comes from the table.
    @Test func everyTableEntryIsTested() {
        let tested = Set(Self.refusedChanges.flatMap(\.refused).map(Self.pattern))
        let table = Set(UnsupportedFeatures.specEntries.map(\.path))
        #expect(table.subtracting(tested).sorted() == [])
        #expect(tested.subtracting(table).sorted() == [])
        #expect(table.count == UnsupportedFeatures.specEntries.count, "a path is in the table twice")
        for entry in UnsupportedFeatures.specEntries {
            #expect(entry.reason.contains("not supported yet"), "\(entry.path): \(entry.reason)")
        }
    }

    @Test func everyUseIsNamed() {
        var spec = Self.runnableSpec
        for name in ["b1", "b2"] {
            Self.append(&spec, Self.interfaces, ["name": .string(name), "sriov": [:]])
            Self.append(&spec, ["networks"], ["name": .string(name), "multus": ["networkName": .string("default/\(name)")]])
        }
        #expect(admit(vmi(spec)).map(\.field) == ["spec.domain.devices.interfaces[1].sriov", "spec.domain.devices.interfaces[2].sriov"])
    }

    // MARK: - VirtualMachine fields

    static let refusedVirtualMachineFields: [(String, JSONValue)] = [
        ("instancetype", ["name": "u1.medium"]),
        ("preference", ["name": "fedora"]),
        ("runStrategy", "WaitAsReceiver"),
        ("updateVolumesStrategy", "Migration"),
    ]

    @Test func virtualMachineFieldsAreRefused() {
        for (key, value) in Self.refusedVirtualMachineFields {
            var object = vm(Self.runnableSpec)
            object[path: ["spec", key]] = value
            let causes = admit(object)
            #expect(causes.map(\.field) == ["spec.\(key)"], "\(key)")
            #expect(causes.first?.message.contains("not supported yet") == true)
        }
        let table = Set(UnsupportedFeatures.virtualMachineEntries.map(\.path))
        #expect(table == Set(Self.refusedVirtualMachineFields.map { "spec.\($0.0)" }))
        #expect(UnsupportedFeatures.virtualMachineEntries.allSatisfy { $0.reason.contains("not supported yet") })
    }

    // MARK: - Accepted

    /// Changes the converter and the node agent honour: each must keep the spec valid.
    static let acceptedChanges: [Change] = [
        Change("the defaulted pod network", refused: []) { spec in spec[path: interfaces] = nil; spec["networks"] = nil },
        Change("no network at all", refused: []) { spec in
            spec[path: interfaces] = nil
            spec["networks"] = nil
            spec[path: ["domain", "devices", "autoattachPodInterface"]] = false
        },
        Change("interface settings", refused: []) { spec in
            element(&spec, interfaces, 0) {
                $0["model"] = "e1000e"; $0["macAddress"] = "02:00:00:00:00:01"; $0["bootOrder"] = 3; $0["acpiIndex"] = 1
                $0["state"] = "up"; $0["ports"] = []
            }
            spec[path: ["domain", "devices", "networkInterfaceMultiqueue"]] = false
        },
        Change("an absent interface", refused: []) { spec in element(&spec, interfaces, 0) { $0["state"] = "absent" } },
        Change("masquerade with forwarded ports, DHCP options and its own guest network", refused: []) { spec in
            element(&spec, interfaces, 0) {
                $0["ports"] = [["name": "ssh", "port": 22, "protocol": "TCP"], ["port": 53, "protocol": "UDP"], ["port": 80]]
                $0["dhcpOptions"] = ["bootFileName": "pxelinux.0", "tftpServerName": "tftp.example", "ntpServers": ["192.0.2.123"],
                                     "privateOptions": [["option": 240, "value": "extra"]]]
            }
            element(&spec, ["networks"], 0) { $0["pod"] = ["vmNetworkCIDR": "10.1.0.0/24"] }
        },
        Change("a persistentVolumeClaim volume", refused: []) { spec in
            element(&spec, ["volumes"], 0) { $0["containerDisk"] = nil; $0["persistentVolumeClaim"] = ["claimName": "root", "readOnly": false] }
        },
        Change("every volume the agent prepares", refused: []) { spec in
            spec[path: disks] = [
                ["name": "root", "disk": ["bus": "virtio"], "bootOrder": 1, "cache": "writeback", "io": "threads",
                 "dedicatedIOThread": true, "errorPolicy": "report", "serial": "ROOT", "blockSize": ["custom": ["logical": 512, "physical": 4096]]],
                ["name": "seed", "cdrom": ["bus": "sata", "readonly": true, "tray": "closed"]],
                ["name": "scratch", "disk": ["bus": "scsi"], "shareable": true, "changedBlockTracking": false],
                ["name": "host", "disk": ["bus": "sata"]],
                ["name": "usb", "disk": ["bus": "usb"]],
                ["name": "drive", "disk": ["bus": "virtio"]],
            ]
            spec["volumes"] = [
                ["name": "root", "containerDisk": ["image": "/var/lib/swiftvirt/guest/disk.qcow2", "imagePullPolicy": "IfNotPresent"]],
                ["name": "seed", "cloudInitConfigDrive": ["secretRef": ["name": "userdata"]]],
                ["name": "scratch", "emptyDisk": ["capacity": "1Gi"]],
                ["name": "host", "hostDisk": ["path": "/var/lib/images/host.img", "type": "DiskOrCreate", "capacity": "1Gi", "shared": false]],
                ["name": "usb", "emptyDisk": ["capacity": "64Mi"]],
                ["name": "drive", "hostDisk": ["path": "/var/lib/images/drive.img", "type": "Disk"]],
            ]
            spec[path: ["domain", "ioThreadsPolicy"]] = "shared"
            spec[path: ["domain", "devices", "blockMultiQueue"]] = true
        },
        Change("machine, CPU, memory and firmware", refused: []) { spec in
            spec[path: ["domain", "machine"]] = ["type": "q35"]
            spec[path: ["domain", "cpu"]] = [
                "sockets": 1, "cores": 2, "threads": 1, "maxSockets": 2, "model": "host-model",
                "features": [["name": "vmx", "policy": "disable"]], "dedicatedCpuPlacement": false, "isolateEmulatorThread": false,
            ]
            spec[path: ["domain", "memory"]] = ["guest": "256Mi", "maxGuest": "256Mi"]
            spec[path: ["domain", "resources"]] = ["requests": ["memory": "256Mi", "cpu": "500m"], "limits": ["memory": "512Mi"],
                                                   "overcommitGuestOverhead": true]
            spec[path: ["domain", "firmware"]] = ["uuid": "5d307ca9-b3ef-428c-8861-06e72d69f223", "serial": "s-1",
                                                  "bootloader": ["bios": ["useSerial": true]]]
            spec[path: ["domain", "rebootPolicy"]] = "Terminate"
        },
        Change("direct kernel boot", refused: []) { spec in
            spec[path: ["domain", "firmware", "kernelBoot"]] = [
                "kernelArgs": "console=ttyS0", "container": ["image": "/var/lib/swiftvirt/guest", "kernelPath": "/vmlinuz", "initrdPath": "/initrd"],
            ]
        },
        Change("features and clock", refused: []) { spec in
            spec[path: ["domain", "features"]] = [
                "acpi": [:], "apic": ["enabled": true], "smm": ["enabled": true], "pvspinlock": ["enabled": false], "kvm": ["hidden": true],
                "hyperv": ["relaxed": [:], "vapic": [:], "spinlocks": ["spinlocks": 8191], "synictimer": ["direct": ["enabled": true]]],
                "hypervPassthrough": ["enabled": false],
            ]
            spec[path: ["domain", "clock"]] = [
                "utc": ["offsetSeconds": 0],
                "timer": ["hpet": ["present": false], "pit": ["tickPolicy": "delay"], "rtc": ["tickPolicy": "catchup", "track": "guest"],
                          "kvm": [:], "hyperv": [:]],
            ]
        },
        Change("devices", refused: []) { spec in
            var devices = spec[path: ["domain", "devices"]] ?? [:]
            devices["rng"] = [:]
            devices["inputs"] = [["name": "tablet", "type": "tablet", "bus": "usb"]]
            devices["watchdog"] = ["name": "w", "i6300esb": ["action": "poweroff"]]
            devices["video"] = ["type": "virtio"]
            devices["autoattachSerialConsole"] = true
            devices["logSerialConsole"] = false
            devices["autoattachMemBalloon"] = false
            devices["autoattachInputDevice"] = true
            devices["autoattachVSOCK"] = false
            devices["useVirtioTransitional"] = true
            devices["disableHotplug"] = true
            devices["gpus"] = []
            spec[path: ["domain", "devices"]] = devices
        },
        Change("scheduling", refused: []) { spec in
            spec["nodeSelector"] = ["kubernetes.io/arch": "amd64"]
            spec["tolerations"] = [["key": "dedicated", "operator": "Exists", "effect": "NoSchedule"]]
            spec["affinity"] = [
                "nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
                    ["matchExpressions": [["key": "zone", "operator": "In", "values": ["a"]]]]]]],
                "podAntiAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [
                    ["weight": 1, "podAffinityTerm": ["topologyKey": "kubernetes.io/hostname"]]]],
            ]
            spec["topologySpreadConstraints"] = [["maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"]]
            spec["evictionStrategy"] = "None"
            spec["terminationGracePeriodSeconds"] = 10
            spec["hostname"] = "guest"
            spec["priorityClassName"] = "high"
            spec["schedulerName"] = "swiftvirt-scheduler"
            spec["architecture"] = "amd64"
        },
    ]

    @Test(arguments: acceptedChanges)
    func acceptedInBoth(change: Change) {
        var spec = Self.runnableSpec
        change.edit(&spec)
        #expect(admit(vmi(spec)) == [])
        #expect(admit(vm(spec)) == [])
    }

    @Test func theExampleVirtualMachineIsAccepted() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/vm-tiny.yaml").standardizedFileURL
        let object = try JSONValue.parseYAML(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        #expect(object["kind"] == "VirtualMachine")
        #expect(validate(object) == [])
        #expect(admit(object) == [])
    }
}

extension UnsupportedFeaturesTests.Change {
    /// The same change, refused at `path` instead of the path it sets.
    func at(_ path: String) -> Self {
        Self(path, refused: [path], edit)
    }
}
