import VirtError

/// Validation of kubevirt.io/v1 `VirtualMachineInstanceMigration`.
enum MigrationAdmission {
    static func validate(_ migration: VirtualMachineInstanceMigration, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        if let old {
            if old["spec"] == object["spec"] { return [] }
            return [FieldErrors.forbidden(
                "spec", "update of Migration object's spec is restricted; delete it and create a new migration")]
        }
        if migration.spec.vmiName?.isEmpty ?? true {
            return [FieldErrors.required("spec.vmiName", "the name of the VirtualMachineInstance to migrate")]
        }
        return []
    }
}
