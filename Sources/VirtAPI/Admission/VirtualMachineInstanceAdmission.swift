import VirtError

/// Validation and defaulting of kubevirt.io/v1 `VirtualMachineInstance`.
enum VirtualMachineInstanceAdmission {
    static func validate(_ vmi: VirtualMachineInstance, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        if let old {
            return validateUpdate(object: object, old: old)
        }
        return VirtualMachineInstanceSpecValidator(spec: vmi.spec, prefix: "spec").validate()
    }

    /// A VMI's spec is fixed once it exists: only metadata and status may change.
    static func validateUpdate(object: JSONValue, old: JSONValue) -> [VirtError.Cause] {
        let newSpec = object["spec"]
        let oldSpec = old["spec"]
        if newSpec == oldSpec { return [] }
        // A client that resends the spec it read before defaulting should not be refused.
        var defaulted = newSpec ?? .object([:])
        VMISpecDefaults.apply(to: &defaulted)
        if defaulted == oldSpec { return [] }
        return [FieldErrors.forbidden(
            "spec",
            "update of VMI object is restricted: the spec of a VirtualMachineInstance cannot change once it is created; "
                + "change the VirtualMachine's template and restart it instead")]
    }

    static func applyDefaults(_ object: inout JSONValue) {
        object.modify(path: ["spec"]) { spec in
            if spec.objectValue != nil { VMISpecDefaults.apply(to: &spec) }
        }
    }
}

/// KubeVirt's defaults for a VMI spec (also applied to a VM's template spec). Idempotent.
enum VMISpecDefaults {
    static func apply(to spec: inout JSONValue) {
        guard spec["domain"]?.objectValue != nil else { return }
        defaultPodNetwork(&spec)
        defaultDiskTargets(&spec)
    }

    /// With neither interfaces nor networks (and `autoattachPodInterface` not false), the VMI gets one
    /// interface named `default` with masquerade binding on the pod network.
    static func defaultPodNetwork(_ spec: inout JSONValue) {
        let devices = ["domain", "devices"]
        let interfaces = spec[path: devices + ["interfaces"]]?.arrayValue ?? []
        let networks = spec["networks"]?.arrayValue ?? []
        let autoattach = spec[path: devices + ["autoattachPodInterface"]]?.boolValue
        guard interfaces.isEmpty, networks.isEmpty, autoattach != false else { return }
        if spec[path: devices]?.objectValue == nil { spec[path: devices] = .object([:]) }
        spec[path: devices + ["interfaces"]] = .array([.object(["name": .string("default"), "masquerade": .object([:])])])
        spec["networks"] = .array([.object(["name": .string("default"), "pod": .object([:])])])
    }

    /// A disk without a target becomes `disk: {bus: virtio}`; a target without a bus gets virtio (disk),
    /// sata (cdrom) or scsi (lun).
    static func defaultDiskTargets(_ spec: inout JSONValue) {
        let targets: [(String, String)] = [("disk", "virtio"), ("cdrom", "sata"), ("lun", "scsi")]
        spec.modify(path: ["domain", "devices", "disks"]) { value in
            guard case .array(var disks) = value else { return }
            value = .null  // each level below is taken out while it changes, so nothing is copied
            for i in disks.indices {
                guard case .object(var disk) = disks[i] else { continue }
                disks[i] = .null
                let present = targets.filter { key, _ in disk[key] != nil && disk[key] != .null }
                if present.isEmpty {
                    disk["disk"] = .object(["bus": .string("virtio")])
                }
                for (key, bus) in present {
                    guard case .object(var target)? = disk[key] else { continue }
                    disk[key] = nil
                    if target["bus"] == nil || target["bus"] == .null { target["bus"] = .string(bus) }
                    disk[key] = .object(target)
                }
                disks[i] = .object(disk)
            }
            value = .array(disks)
        }
    }
}
