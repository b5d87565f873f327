import Testing
import VirtError

@testable import VirtAPI

@Suite struct AdmissionTests {
    // MARK: - Fixtures

    /// A valid VMI after defaulting, to be broken one rule at a time.
    private func vmi() throws -> JSONValue {
        try JSONValue.parse(#"""
            {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "vmi", "namespace": "default"},
             "spec": {
               "domain": {
                 "resources": {"requests": {"memory": "1Gi"}},
                 "devices": {
                   "disks": [{"name": "root", "disk": {"bus": "virtio"}}, {"name": "cloudinit", "disk": {"bus": "virtio"}}],
                   "interfaces": [{"name": "default", "masquerade": {}}]
                 }
               },
               "networks": [{"name": "default", "pod": {}}],
               "volumes": [
                 {"name": "root", "containerDisk": {"image": "quay.io/containerdisks/fedora:40"}},
                 {"name": "cloudinit", "cloudInitNoCloud": {"userData": "#cloud-config\n"}}
               ]
             }}
            """#)
    }

    private func validateVMI(_ object: JSONValue, old: JSONValue? = nil) -> [VirtError.Cause] {
        Admission.validate(group: "kubevirt.io", kind: "VirtualMachineInstance", object: object, old: old)
    }

    /// The causes of a VMI changed by `change`, as field → reason.
    private func vmiCauses(_ change: (inout JSONValue) throws -> Void) throws -> [VirtError.Cause] {
        var object = try vmi()
        try change(&object)
        return validateVMI(object)
    }

    private func fields(_ causes: [VirtError.Cause]) -> [String] { causes.map(\.field) }

    private func cause(_ causes: [VirtError.Cause], at field: String) -> VirtError.Cause? {
        causes.first { $0.field == field }
    }

    /// Edits element `index` of the array at `path`.
    private func edit(_ object: inout JSONValue, _ path: [String], _ index: Int, _ change: (inout JSONValue) -> Void) throws {
        var list = try #require(object[path: path]?.arrayValue)
        change(&list[index])
        object[path: path] = .array(list)
    }

    private func append(_ object: inout JSONValue, _ path: [String], _ element: JSONValue) {
        var list = object[path: path]?.arrayValue ?? []
        list.append(element)
        object[path: path] = .array(list)
    }

    private let disks = ["spec", "domain", "devices", "disks"]
    private let interfaces = ["spec", "domain", "devices", "interfaces"]
    private let networks = ["spec", "networks"]
    private let volumes = ["spec", "volumes"]

    // MARK: - VirtualMachine

    /// The realistic KubeVirt VM without what SwiftVirt does not run yet (see `UnsupportedFeatures`): its
    /// root disk a containerDisk instead of a DataVolume, BIOS instead of UEFI, only the pod network.
    private func runnableFedoraVM() throws -> JSONValue {
        var vm = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        let spec = ["spec", "template", "spec"]
        vm[path: spec + ["domain", "firmware", "bootloader"]] = nil
        vm[path: spec + ["domain", "devices", "networkInterfaceMultiqueue"]] = nil
        vm[path: spec + ["domain", "devices", "interfaces"]] = [["name": "default", "masquerade": [:]]]
        vm[path: spec + ["networks"]] = [["name": "default", "pod": [:]]]
        vm[path: spec + ["evictionStrategy"]] = nil
        try edit(&vm, spec + ["volumes"], 0) { $0["dataVolume"] = nil; $0["containerDisk"] = ["image": "/var/lib/swiftvirt/guest/disk.qcow2"] }
        return vm
    }

    @Test func realisticVirtualMachineIsRefusedWhereSwiftVirtFallsShort() throws {
        let vm = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        let causes = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        #expect(fields(causes) == [
            "spec.template.spec.domain.devices.networkInterfaceMultiqueue",
            "spec.template.spec.domain.firmware.bootloader.efi",
            "spec.template.spec.evictionStrategy",
        ])
        #expect(causes.allSatisfy { $0.reason == "FieldValueNotSupported" && $0.message.contains("not supported yet") })
    }

    @Test func realisticVirtualMachineIsValid() throws {
        var vm = try runnableFedoraVM()
        #expect(Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil) == [])
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachine", object: &vm)
        #expect(Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil) == [])
        #expect(Admission.unknownFields(group: "kubevirt.io", kind: "VirtualMachine", object: vm) == [])
    }

    @Test func runStrategyMustBeKnown() throws {
        var vm = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        vm[path: ["spec", "runStrategy"]] = "Sometimes"
        let causes = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        let runStrategy = try #require(cause(causes, at: "spec.runStrategy"))
        #expect(runStrategy.reason == "FieldValueNotSupported")
        #expect(runStrategy.message.hasPrefix(#"Unsupported value: "Sometimes": supported values: "Always", "Halted", "Manual", "RerunOnFailure", "Once""#))
    }

    @Test func runningAndRunStrategyAreExclusive() throws {
        var vm = try runnableFedoraVM()
        vm[path: ["spec", "running"]] = true
        let causes = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        #expect(fields(causes) == ["spec.running"])
        #expect(causes.first?.message.contains("mutually exclusive") == true)
    }

    @Test func templateIsRequired() throws {
        var vm = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        vm[path: ["spec", "template"]] = nil
        let causes = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        #expect(fields(causes) == ["spec.template"])
        #expect(causes.first?.reason == "FieldValueRequired")
    }

    @Test func templateRulesUseTheFullPath() throws {
        var vm = try runnableFedoraVM()
        try edit(&vm, ["spec", "template", "spec", "domain", "devices", "disks"], 1) { $0["name"] = "cloudinit-typo" }
        let causes = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        #expect(fields(causes) == ["spec.template.spec.domain.devices.disks[1].name"])
        #expect(causes.first?.message.contains(#""cloudinit-typo""#) == true)
    }

    /// KubeVirt checks a guest's memory on the VMI (its mandatory-fields rule), not on a VM's template,
    /// where an instance type or preference may still supply it.
    @Test func aTemplateWithoutMemoryIsAcceptedAsKubeVirtDoes() throws {
        var vm = try runnableFedoraVM()
        vm[path: ["spec", "template", "spec", "domain", "memory"]] = nil
        vm[path: ["spec", "template", "spec", "domain", "resources"]] = nil
        let without = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        #expect(without == [])
        // The VMI made from it is refused until it has memory.
        var vmi: JSONValue = ["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": ["name": "vmi"]]
        vmi["spec"] = try #require(vm[path: ["spec", "template", "spec"]])
        #expect(fields(validateVMI(vmi)) == ["spec.domain.resources.requests.memory"])
        // An instance type would supply the memory, but the VM controller does not apply instance types yet.
        vm[path: ["spec", "instancetype"]] = ["name": "u1.medium"]
        let causes = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        #expect(fields(causes) == ["spec.instancetype"])
        #expect(causes.first?.message.contains("not supported yet") == true)
    }

    @Test func typeErrorsAreCauses() throws {
        var vm = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        vm[path: ["spec", "running"]] = "string"
        vm[path: ["spec", "runStrategy"]] = nil
        let causes = Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil)
        #expect(causes == [VirtError.Cause(
            reason: "FieldValueInvalid",
            message: #"Invalid value: "string": spec.running in body must be of type boolean: "string""#,
            field: "spec.running")])
        #expect(Admission.unknownFields(group: "kubevirt.io", kind: "VirtualMachine", object: vm) == [])
    }

    @Test func unchangedSpecIsNotRecheckedOnUpdate() throws {
        var old = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        old[path: ["spec", "runStrategy"]] = "Sometimes"
        var new = old
        new[path: ["status", "printableStatus"]] = "Running"
        #expect(Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: new, old: old) == [])
    }

    // MARK: - VMI memory and CPU

    @Test func baseInstanceIsValid() throws {
        #expect(validateVMI(try vmi()) == [])
    }

    @Test func memoryIsRequired() throws {
        let causes = try vmiCauses { $0[path: ["spec", "domain", "resources"]] = nil }
        #expect(fields(causes) == ["spec.domain.resources.requests.memory"])
        #expect(causes.first?.reason == "FieldValueRequired")
        #expect(try vmiCauses {
            $0[path: ["spec", "domain", "resources"]] = nil
            $0[path: ["spec", "domain", "memory", "guest"]] = "512Mi"
        } == [])
        #expect(try vmiCauses {
            $0[path: ["spec", "domain", "resources"]] = ["limits": ["memory": "512Mi"]]
        } == [])
    }

    @Test func memoryMustBeAtLeastOneMegabyte() throws {
        let causes = try vmiCauses { $0[path: ["spec", "domain", "resources", "requests", "memory"]] = "0" }
        #expect(fields(causes) == ["spec.domain.resources.requests.memory"])
        #expect(causes.first?.message == #"Invalid value: "0": must be greater than or equal to 1M"#)
        let guest = try vmiCauses { $0[path: ["spec", "domain", "memory", "guest"]] = "-1Gi" }
        #expect(fields(guest) == ["spec.domain.memory.guest"])
    }

    @Test func guestMemoryFitsTheLimit() throws {
        let causes = try vmiCauses {
            $0[path: ["spec", "domain", "memory", "guest"]] = "2Gi"
            $0[path: ["spec", "domain", "resources", "limits", "memory"]] = "1Gi"
        }
        #expect(fields(causes) == ["spec.domain.memory.guest"])
        let request = try vmiCauses { $0[path: ["spec", "domain", "resources", "limits", "memory"]] = "512Mi" }
        #expect(fields(request) == ["spec.domain.resources.requests.memory"])
    }

    @Test(arguments: ["cores", "sockets", "threads"])
    func cpuTopologyIsAtLeastOne(name: String) throws {
        let causes = try vmiCauses { $0[path: ["spec", "domain", "cpu", name]] = 0 }
        #expect(fields(causes) == ["spec.domain.cpu.\(name)"])
    }

    // MARK: - VMI disks

    @Test func diskNamesAreUnique() throws {
        let causes = try vmiCauses { try edit(&$0, disks, 1) { $0["name"] = "root" } }
        let duplicate = try #require(cause(causes, at: "spec.domain.devices.disks[1].name"))
        #expect(duplicate.reason == "FieldValueDuplicate")
        #expect(duplicate.message.hasPrefix(#"Duplicate value: "root""#))
    }

    @Test func everyDiskNeedsAVolume() throws {
        let causes = try vmiCauses {
            try edit(&$0, disks, 0) { $0["name"] = "rootdisk" }
            try edit(&$0, volumes, 0) { $0["name"] = "rootdisk" }
            append(&$0, disks, ["name": "data", "disk": ["bus": "virtio"]])
        }
        #expect(fields(causes) == ["spec.domain.devices.disks[2].name"])
        #expect(causes.first?.message.contains("not found in spec.volumes") == true)
    }

    /// KubeVirt's boot-order rule: only a CD-ROM may lack a volume (an empty drive, for declarative hotplug).
    @Test func anEmptyCDROMIsAcceptedAsKubeVirtDoes() throws {
        let empty: JSONValue = ["name": "empty-drive", "cdrom": ["bus": "sata"]]
        #expect(try vmiCauses { append(&$0, disks, empty) } == [])
        var vm = try runnableFedoraVM()
        append(&vm, ["spec", "template", "spec", "domain", "devices", "disks"], empty)
        #expect(Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil) == [])
        let lun = try vmiCauses { append(&$0, disks, ["name": "empty-drive", "lun": [:]]) }
        #expect(fields(lun).contains("spec.domain.devices.disks[2].name"))
    }

    /// KubeVirt's VMI admission (not the VM's) wants every volume shown by a disk or a file system.
    @Test func everyVolumeOfAVMINeedsADisk() throws {
        let orphan: JSONValue = ["name": "orphan", "emptyDisk": ["capacity": "1Gi"]]
        let causes = try vmiCauses { append(&$0, volumes, orphan) }
        #expect(fields(causes) == ["spec.volumes[2].name"])
        #expect(causes.first?.message.contains("not found in spec.domain.devices.disks") == true)
        var vm = try runnableFedoraVM()
        append(&vm, ["spec", "template", "spec", "volumes"], orphan)
        #expect(Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil) == [])
    }

    /// KubeVirt dropped slirp, macvtap and the old passt binding in v1.3: refused on VMs and VMIs alike.
    @Test(arguments: ["slirp", "macvtap", "passt"])
    func discontinuedBindingsAreRefused(binding: String) throws {
        let causes = try vmiCauses { try edit(&$0, interfaces, 0) { $0["masquerade"] = nil; $0[binding] = [:] } }
        #expect(fields(causes) == ["spec.domain.devices.interfaces[0].\(binding)"])
        #expect(causes.first?.message.contains("discontinued") == true)
        #expect(causes.first?.message.contains("use masquerade: {}") == true)
    }

    @Test func aDiskHasOneTarget() throws {
        let causes = try vmiCauses { try edit(&$0, disks, 0) { $0["cdrom"] = ["bus": "sata"] } }
        #expect(fields(causes) == ["spec.domain.devices.disks[0]"])
    }

    @Test func busesAreChecked() throws {
        let disk = try vmiCauses { try edit(&$0, disks, 0) { $0["disk"] = ["bus": "ide"] } }
        #expect(fields(disk) == ["spec.domain.devices.disks[0].disk.bus"])
        #expect(disk.first?.reason == "FieldValueNotSupported")
        let cdrom = try vmiCauses { try edit(&$0, disks, 0) { $0["disk"] = nil; $0["cdrom"] = ["bus": "virtio"] } }
        #expect(fields(cdrom) == ["spec.domain.devices.disks[0].cdrom.bus"])
        #expect(cdrom.first?.message == #"Unsupported value: "virtio": supported values: "sata", "scsi""#)
    }

    @Test func bootOrderIsPositiveAndUnique() throws {
        let zero = try vmiCauses { try edit(&$0, disks, 0) { $0["bootOrder"] = 0 } }
        #expect(fields(zero) == ["spec.domain.devices.disks[0].bootOrder"])
        let duplicate = try vmiCauses {
            try edit(&$0, disks, 0) { $0["bootOrder"] = 1 }
            try edit(&$0, interfaces, 0) { $0["bootOrder"] = 1 }
        }
        #expect(fields(duplicate) == ["spec.domain.devices.interfaces[0].bootOrder"])
        #expect(duplicate.first?.reason == "FieldValueDuplicate")
    }

    @Test func cacheModeIsChecked() throws {
        let causes = try vmiCauses { try edit(&$0, disks, 0) { $0["cache"] = "unsafe" } }
        #expect(fields(causes) == ["spec.domain.devices.disks[0].cache"])
    }

    // MARK: - VMI volumes

    @Test func volumeNamesAreUnique() throws {
        let causes = try vmiCauses { append(&$0, volumes, ["name": "root", "emptyDisk": ["capacity": "1Gi"]]) }
        #expect(fields(causes) == ["spec.volumes[2].name"])
        #expect(causes.first?.reason == "FieldValueDuplicate")
    }

    @Test func aVolumeHasExactlyOneSource() throws {
        let none = try vmiCauses { try edit(&$0, volumes, 0) { $0["containerDisk"] = nil } }
        #expect(fields(none) == ["spec.volumes[0]"])
        #expect(none.first?.reason == "FieldValueRequired")
        let two = try vmiCauses { try edit(&$0, volumes, 0) { $0["emptyDisk"] = ["capacity": "1Gi"] } }
        #expect(fields(two) == ["spec.volumes[0]"])
        #expect(two.first?.message.contains("containerDisk, emptyDisk") == true)
    }

    @Test func hostDiskRules() throws {
        func hostDisk(_ source: JSONValue) throws -> [String] {
            fields(try vmiCauses { try edit(&$0, volumes, 0) { $0["containerDisk"] = nil; $0["hostDisk"] = source } })
        }
        #expect(try hostDisk(["path": "/var/disk.img", "type": "Disk"]) == [])
        #expect(try hostDisk(["type": "Disk"]) == ["spec.volumes[0].hostDisk.path"])
        #expect(try hostDisk(["path": "/var/disk.img"]) == ["spec.volumes[0].hostDisk.type"])
        #expect(try hostDisk(["path": "/var/disk.img", "type": "File"]) == ["spec.volumes[0].hostDisk.type"])
        #expect(try hostDisk(["path": "/var/disk.img", "type": "DiskOrCreate"]) == ["spec.volumes[0].hostDisk.capacity"])
        #expect(try hostDisk(["path": "/var/disk.img", "type": "DiskOrCreate", "capacity": "1Gi"]) == [])
    }

    @Test func containerDiskNeedsAnImage() throws {
        let causes = try vmiCauses { try edit(&$0, volumes, 0) { $0["containerDisk"] = ["path": "/disk/img.qcow2"] } }
        #expect(fields(causes) == ["spec.volumes[0].containerDisk.image"])
    }

    @Test func cloudInitRules() throws {
        func cloudInit(_ key: String, _ source: JSONValue) throws -> [VirtError.Cause] {
            try vmiCauses { try edit(&$0, volumes, 1) { $0["cloudInitNoCloud"] = nil; $0[key] = source } }
        }
        #expect(fields(try cloudInit("cloudInitNoCloud", [:])) == ["spec.volumes[1].cloudInitNoCloud"])
        #expect(fields(try cloudInit("cloudInitConfigDrive", [:])) == ["spec.volumes[1].cloudInitConfigDrive"])
        let both = try cloudInit("cloudInitNoCloud", ["userData": "a", "userDataBase64": "YQ=="])
        #expect(fields(both) == ["spec.volumes[1].cloudInitNoCloud"])
        #expect(both.first?.message.contains("mutually exclusive") == true)
        #expect(fields(try cloudInit("cloudInitNoCloud", ["userDataBase64": "not base64!"])) == ["spec.volumes[1].cloudInitNoCloud.userDataBase64"])
        #expect(try cloudInit("cloudInitNoCloud", ["userDataBase64": "I2Nsb3VkLWNvbmZpZwo="]) == [])
        #expect(try cloudInit("cloudInitNoCloud", ["networkData": "version: 2\n"]) == [])
        #expect(try cloudInit("cloudInitConfigDrive", ["secretRef": ["name": "userdata"]]) == [])
    }

    // MARK: - VMI networking

    @Test func interfaceNamesAreUnique() throws {
        let causes = try vmiCauses { append(&$0, interfaces, ["name": "default", "masquerade": [:]]) }
        #expect(fields(causes) == ["spec.domain.devices.interfaces[1].name"])
        #expect(causes.first?.reason == "FieldValueDuplicate")
    }

    @Test func interfacesAndNetworksMatchBothWays() throws {
        let noNetwork = try vmiCauses { append(&$0, interfaces, ["name": "extra", "masquerade": [:]]) }
        #expect(fields(noNetwork) == ["spec.domain.devices.interfaces[1].name"])
        let noInterface = try vmiCauses { append(&$0, networks, ["name": "extra", "multus": ["networkName": "br1"]]) }
        #expect(fields(noInterface) == ["spec.networks[1].name"])
        #expect(noInterface.first?.message.contains("needs an interface") == true)
    }

    @Test func exactlyOneBindingMethod() throws {
        let two = try vmiCauses { try edit(&$0, interfaces, 0) { $0["sriov"] = [:] } }
        #expect(fields(two) == ["spec.domain.devices.interfaces[0]", "spec.domain.devices.interfaces[0].sriov"])
        let none = try vmiCauses { try edit(&$0, interfaces, 0) { $0["masquerade"] = nil } }
        #expect(fields(none) == ["spec.domain.devices.interfaces[0]"])
        #expect(none.first?.reason == "FieldValueRequired")
        // A binding plugin is one binding method, but SwiftVirt does not run plugins yet.
        let plugin = try vmiCauses { try edit(&$0, interfaces, 0) { $0["masquerade"] = nil; $0["binding"] = ["name": "passt"] } }
        #expect(fields(plugin) == ["spec.domain.devices.interfaces[0].binding"])
    }

    @Test func onlyOnePodNetwork() throws {
        let causes = try vmiCauses {
            append(&$0, interfaces, ["name": "second", "masquerade": [:]])
            append(&$0, networks, ["name": "second", "pod": [:]])
        }
        #expect(fields(causes) == ["spec.networks[1].pod"])
    }

    @Test func macAddressFormat() throws {
        let bad = try vmiCauses { try edit(&$0, interfaces, 0) { $0["macAddress"] = "02:00:00:00:00" } }
        #expect(fields(bad) == ["spec.domain.devices.interfaces[0].macAddress"])
        #expect(try vmiCauses { try edit(&$0, interfaces, 0) { $0["macAddress"] = "02-AB-cd-00-00-01" } } == [])
    }

    @Test func multusNeedsANetworkName() throws {
        let causes = try vmiCauses {
            append(&$0, interfaces, ["name": "br1", "bridge": [:]])
            append(&$0, networks, ["name": "br1", "multus": [:]])
        }
        // The shape is checked as KubeVirt does.
        #expect(fields(causes) == ["spec.networks[1].multus.networkName"])
    }

    // MARK: - VMI firmware, scheduling, identity

    @Test func kernelBootContainerNeedsAPath() throws {
        let causes = try vmiCauses {
            $0[path: ["spec", "domain", "firmware", "kernelBoot"]] = ["container": ["image": "quay.io/kernel:latest"]]
        }
        #expect(fields(causes) == ["spec.domain.firmware.kernelBoot.container"])
        #expect(try vmiCauses {
            $0[path: ["spec", "domain", "firmware", "kernelBoot"]] = [
                "kernelArgs": "console=ttyS0", "container": ["image": "quay.io/kernel:latest", "kernelPath": "/boot/vmlinuz"],
            ]
        } == [])
    }

    @Test func evictionStrategyIsKnown() throws {
        let causes = try vmiCauses { $0[path: ["spec", "evictionStrategy"]] = "Sometimes" }
        #expect(fields(causes) == ["spec.evictionStrategy"])
        #expect(causes.first?.reason == "FieldValueNotSupported")
    }

    @Test func terminationGracePeriodIsNotNegative() throws {
        let causes = try vmiCauses { $0[path: ["spec", "terminationGracePeriodSeconds"]] = -1 }
        #expect(fields(causes) == ["spec.terminationGracePeriodSeconds"])
        #expect(causes.first?.message.hasPrefix("Invalid value: -1:") == true)
    }

    @Test func hostnameIsADNSLabel() throws {
        let causes = try vmiCauses { $0[path: ["spec", "hostname"]] = "My_Host" }
        #expect(fields(causes) == ["spec.hostname"])
        #expect(causes.first?.message.contains("RFC 1123 label") == true)
    }

    // MARK: - VMI updates

    @Test func vmiSpecIsImmutable() throws {
        let old = try vmi()
        var changed = old
        changed[path: ["spec", "domain", "resources", "requests", "memory"]] = "2Gi"
        let causes = validateVMI(changed, old: old)
        #expect(fields(causes) == ["spec"])
        #expect(causes.first?.message.contains("update of VMI object is restricted") == true)
        #expect(causes.first?.reason == "FieldValueForbidden")

        var relabelled = old
        relabelled[path: ["metadata", "labels"]] = ["a": "b"]
        relabelled[path: ["status", "phase"]] = "Running"
        #expect(validateVMI(relabelled, old: old) == [])
    }

    @Test func resendingTheUndefaultedSpecIsNotAChange() throws {
        var original = try vmi()
        original[path: ["spec", "domain", "devices", "interfaces"]] = nil
        original[path: ["spec", "networks"]] = nil
        try edit(&original, disks, 0) { $0["disk"] = nil }
        var stored = original
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachineInstance", object: &stored)
        #expect(stored != original)
        #expect(validateVMI(original, old: stored) == [])
    }

    // MARK: - Other kinds

    @Test func migrationNeedsAVMIName() throws {
        let causes = Admission.validate(
            group: "kubevirt.io", kind: "VirtualMachineInstanceMigration",
            object: ["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration", "metadata": ["name": "m"], "spec": [:]],
            old: nil)
        #expect(fields(causes) == ["spec.vmiName"])
        #expect(causes.first?.reason == "FieldValueRequired")
    }

    private func nad(_ config: String) -> [VirtError.Cause] {
        Admission.validate(
            group: "k8s.cni.cncf.io", kind: "NetworkAttachmentDefinition",
            object: ["apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": ["name": "br1"],
                     "spec": ["config": .string(config)]],
            old: nil)
    }

    @Test func networkAttachmentDefinitionConfig() {
        #expect(nad(#"{"cniVersion": "0.3.1", "type": "bridge", "bridge": "br1"}"#) == [])
        #expect(nad(#"{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": "tuning"}]}"#) == [])
        #expect(fields(nad(#"{"cniVersion": "0.3.1", "type": "#)) == ["spec.config"])
        // Multus loads a config without cniVersion (CNI's oldest) or name (the NetworkAttachmentDefinition's).
        #expect(nad(#"{"type": "bridge"}"#) == [])
        #expect(nad(#"{"plugins": [{"type": "macvlan", "master": "eth0"}]}"#) == [])
        #expect(fields(nad(#"{"cniVersion": 1, "type": "bridge"}"#)) == ["spec.config"])
        #expect(fields(nad(#"{"type": ""}"#)) == ["spec.config"])
        #expect(nad("") == [])
        #expect(fields(nad(#"{"cniVersion": "0.3.1"}"#)) == ["spec.config"])
        #expect(fields(nad(#"{"cniVersion": "0.3.1", "plugins": [{"name": "x"}]}"#)) == ["spec.config"])
        #expect(fields(nad("[]")) == ["spec.config"])
    }

    @Test func storageClassNeedsAProvisioner() {
        let missing = Admission.validate(
            group: "storage.k8s.io", kind: "StorageClass",
            object: ["apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": "local"]], old: nil)
        #expect(missing == [VirtError.Cause(reason: "FieldValueRequired", message: "Required value", field: "provisioner")])
        let empty = Admission.validate(
            group: "storage.k8s.io", kind: "StorageClass",
            object: ["apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": "local"], "provisioner": ""], old: nil)
        #expect(fields(empty) == ["provisioner"])
    }

    private func claim(_ spec: JSONValue) -> [VirtError.Cause] {
        Admission.validate(
            group: "", kind: "PersistentVolumeClaim",
            object: ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "c"], "spec": spec], old: nil)
    }

    @Test func persistentVolumeClaimRules() {
        let size: JSONValue = ["requests": ["storage": "1Gi"]]
        #expect(claim(["accessModes": ["ReadWriteOnce"], "resources": size]) == [])
        #expect(fields(claim(["accessModes": ["ReadWriteOnce"]])) == ["spec.resources.requests.storage"])
        #expect(fields(claim(["accessModes": ["ReadWriteSometimes"], "resources": size])) == ["spec.accessModes[0]"])
        #expect(fields(claim(["accessModes": ["ReadWriteOnce"], "resources": size, "volumeMode": "Raw"])) == ["spec.volumeMode"])
        #expect(fields(claim(["resources": size])) == ["spec.accessModes"])
        #expect(fields(claim(["accessModes": ["ReadWriteOnce"], "resources": size, "volumeMode": "FromStorageProfile"])) == ["spec.volumeMode"])
    }

    @Test func aBoundClaimMayGrowButNotShrinkBelowItsCapacity() {
        let old: JSONValue = [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "c"],
            "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
            "status": ["phase": "Bound", "capacity": ["storage": "1Gi"]],
        ]
        var grown = old
        grown[path: ["spec", "resources", "requests", "storage"]] = "2Gi"
        #expect(Admission.validate(group: "", kind: "PersistentVolumeClaim", object: grown, old: old) == [])
        var shrunk = old
        shrunk[path: ["spec", "resources", "requests", "storage"]] = "512Mi"
        let causes = Admission.validate(group: "", kind: "PersistentVolumeClaim", object: shrunk, old: old)
        #expect(fields(causes) == ["spec.resources.requests.storage"])
        #expect(causes.first?.message.contains("field can not be less than status.capacity") == true)
    }

    /// CDI's PVC mutation completes a claim labelled cdi.kubevirt.io/applyStorageProfile from the StorageProfile.
    @Test func aClaimForTheStorageProfileMayLeaveOutWhatCDIFillsIn() {
        let labelled: JSONValue = ["name": "c", "labels": ["cdi.kubevirt.io/applyStorageProfile": "true"]]
        let object: JSONValue = [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": labelled,
            "spec": ["resources": ["requests": ["storage": "1Gi"]], "volumeMode": "FromStorageProfile"],
        ]
        #expect(Admission.validate(group: "", kind: "PersistentVolumeClaim", object: object, old: nil) == [])
        var noSize = object
        noSize[path: ["spec", "resources"]] = nil
        #expect(fields(Admission.validate(group: "", kind: "PersistentVolumeClaim", object: noSize, old: nil))
            == ["spec.resources.requests.storage"])
    }

    @Test func unknownKindsAreNotChecked() {
        let object: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "spec": ["anything": true]]
        #expect(Admission.validate(group: "example.com", kind: "Widget", object: object, old: nil) == [])
        #expect(Admission.unknownFields(group: "example.com", kind: "Widget", object: object) == [])
        var copy = object
        Admission.applyDefaults(group: "example.com", kind: "Widget", object: &copy)
        #expect(copy == object)
        #expect(Admission.knowsKind(group: "kubevirt.io", kind: "VirtualMachine"))
        #expect(!Admission.knowsKind(group: "example.com", kind: "Widget"))
    }

    // MARK: - Defaults

    @Test func vmiGetsAPodNetworkAndDiskBuses() throws {
        var object = try vmi()
        object[path: ["spec", "domain", "devices", "interfaces"]] = nil
        object[path: ["spec", "networks"]] = nil
        try edit(&object, disks, 0) { $0["disk"] = nil }
        try edit(&object, disks, 1) { $0["disk"] = [:] }
        append(&object, disks, ["name": "iso", "cdrom": ["readonly": true]])
        append(&object, volumes, ["name": "iso", "containerDisk": ["image": "quay.io/iso:latest"]])
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachineInstance", object: &object)

        #expect(object[path: interfaces] == [["name": "default", "masquerade": [:]]])
        #expect(object[path: networks] == [["name": "default", "pod": [:]]])
        let defaulted = try #require(object[path: disks]?.arrayValue)
        #expect(defaulted[0]["disk"] == ["bus": "virtio"])
        #expect(defaulted[1]["disk"] == ["bus": "virtio"])
        #expect(defaulted[2]["cdrom"] == ["bus": "sata", "readonly": true])
        #expect(defaulted[2]["disk"] == nil)
        #expect(validateVMI(object) == [])
    }

    @Test func defaultsAreIdempotent() throws {
        var once = try vmi()
        once[path: ["spec", "domain", "devices", "interfaces"]] = nil
        once[path: ["spec", "networks"]] = nil
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachineInstance", object: &once)
        var twice = once
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachineInstance", object: &twice)
        #expect(once == twice)

        var vm = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachine", object: &vm)
        var vmTwice = vm
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachine", object: &vmTwice)
        #expect(vm == vmTwice)
        #expect(vm == (try JSONValue.parse(KubeVirtManifests.fedoraVM)))  // already complete: nothing to add

        var pvc: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": ["accessModes": ["ReadWriteOnce"]]]
        Admission.applyDefaults(group: "", kind: "PersistentVolumeClaim", object: &pvc)
        #expect(pvc[path: ["spec", "volumeMode"]] == "Filesystem")
        var pvcTwice = pvc
        Admission.applyDefaults(group: "", kind: "PersistentVolumeClaim", object: &pvcTwice)
        #expect(pvc == pvcTwice)
    }

    @Test func existingNetworksAndOptOutAreRespected() throws {
        var optOut = try vmi()
        optOut[path: ["spec", "domain", "devices", "interfaces"]] = nil
        optOut[path: ["spec", "networks"]] = nil
        optOut[path: ["spec", "domain", "devices", "autoattachPodInterface"]] = false
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachineInstance", object: &optOut)
        #expect(optOut[path: ["spec", "networks"]] == nil)
        #expect(optOut[path: ["spec", "domain", "devices", "interfaces"]] == nil)

        var explicit = try vmi()
        let before = explicit
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachineInstance", object: &explicit)
        #expect(explicit == before)
    }

    @Test func vmTemplateGetsTheSameDefaults() throws {
        var vm: JSONValue = [
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": ["name": "vm"],
            "spec": ["runStrategy": "Halted", "template": ["spec": [
                "domain": ["memory": ["guest": "1Gi"], "devices": ["disks": [["name": "root"]]]],
                "volumes": [["name": "root", "containerDisk": ["image": "quay.io/containerdisks/fedora:40"]]],
            ]]],
        ]
        Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachine", object: &vm)
        let spec = ["spec", "template", "spec"]
        #expect(vm[path: spec + ["networks"]] == [["name": "default", "pod": [:]]])
        #expect(vm[path: spec + ["domain", "devices", "interfaces"]] == [["name": "default", "masquerade": [:]]])
        #expect(vm[path: spec + ["domain", "devices", "disks"]] == [["name": "root", "disk": ["bus": "virtio"]]])
        #expect(Admission.validate(group: "kubevirt.io", kind: "VirtualMachine", object: vm, old: nil) == [])
    }
}
