import VirtError

/// Validation and defaulting of kubevirt.io/v1 `VirtualMachine`.
///
/// The template is checked by the VMI spec rules in their template role: what only a VMI must have (its
/// memory, a disk for every volume) is checked when the VM controller creates the VMI.
enum VirtualMachineAdmission {
    static let runStrategies = ["Always", "Halted", "Manual", "RerunOnFailure", "Once", "WaitAsReceiver"]

    static func validate(_ vm: VirtualMachine, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        // Unchanged specs are not re-checked, so status updates never fail on rules added later.
        if let old, old["spec"] == object["spec"] { return [] }
        var causes: [VirtError.Cause] = []
        let spec = vm.spec
        if let strategy = spec.runStrategy, !runStrategies.contains(strategy) {
            causes.append(FieldErrors.notSupported("spec.runStrategy", strategy, runStrategies))
        }
        if spec.running != nil, spec.runStrategy != nil {
            causes.append(FieldErrors.invalid(
                "spec.running",
                "running and runStrategy are mutually exclusive; remove spec.running (runStrategy Always is running: true)"))
        }
        causes += UnsupportedFeatures.causes(in: spec)
        guard let template = spec.template else {
            causes.append(FieldErrors.required("spec.template", "the VirtualMachineInstance template to run"))
            return causes
        }
        guard let templateSpec = template.spec else {
            causes.append(FieldErrors.required("spec.template.spec", "the VirtualMachineInstance spec to run"))
            return causes
        }
        var validator = VirtualMachineInstanceSpecValidator(spec: templateSpec, prefix: "spec.template.spec")
        validator.role = .template
        causes += validator.validate()
        return causes
    }

    static func applyDefaults(_ object: inout JSONValue) {
        object.modify(path: ["spec", "template", "spec"]) { spec in
            if spec.objectValue != nil { VMISpecDefaults.apply(to: &spec) }
        }
    }
}
