/// KubeVirt's kinds and those of its companions (CDI, migration policies).
extension ResourceType {
    /// kubevirt.io/v1 `VirtualMachine`.
    public static let virtualMachine = ResourceType(
        group: "kubevirt.io", version: "v1", kind: "VirtualMachine", plural: "virtualmachines", shortNames: ["vm", "vms"],
        categories: ["all"],
        columns: [.age, .path("Status", "status.printableStatus"), .condition("Ready", type: "Ready")],
        admission: .typed(VirtualMachine.self, validate: VirtualMachineAdmission.validate, defaults: VirtualMachineAdmission.applyDefaults))

    /// kubevirt.io/v1 `VirtualMachineInstance`.
    public static let virtualMachineInstance = ResourceType(
        group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance", plural: "virtualmachineinstances",
        shortNames: ["vmi", "vmis"], categories: ["all"],
        columns: [
            .age, .path("Phase", "status.phase"),
            PrinterColumn("IP") { $0[path: ["status", "interfaces"]]?.arrayValue?.first?["ipAddress"] ?? .null },
            .path("NodeName", "status.nodeName"), .condition("Ready", type: "Ready"),
            .condition("Live-Migratable", type: "LiveMigratable", priority: 1),
            .condition("Paused", type: "Paused", priority: 1),
        ],
        selectableFields: ["status.phase", "status.nodeName"],
        admission: .typed(VirtualMachineInstance.self, validate: VirtualMachineInstanceAdmission.validate,
                          defaults: VirtualMachineInstanceAdmission.applyDefaults))

    /// kubevirt.io/v1 `VirtualMachineInstanceMigration`.
    public static let virtualMachineInstanceMigration = ResourceType(
        group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstanceMigration", plural: "virtualmachineinstancemigrations",
        shortNames: ["vmim", "vmims"], categories: ["all"],
        columns: [.path("Phase", "status.phase"), .path("VMI", "spec.vmiName")],
        admission: .typed(VirtualMachineInstanceMigration.self, validate: MigrationAdmission.validate))

    /// migrations.kubevirt.io/v1alpha1 `MigrationPolicy`.
    public static let migrationPolicy = ResourceType(
        group: "migrations.kubevirt.io", version: "v1alpha1", kind: "MigrationPolicy", plural: "migrationpolicies",
        namespaced: false, categories: ["all"],
        admission: .typed(MigrationPolicy.self))

    /// cdi.kubevirt.io/v1beta1 `DataVolume`.
    public static let dataVolume = ResourceType(
        group: "cdi.kubevirt.io", version: "v1beta1", kind: "DataVolume", plural: "datavolumes", shortNames: ["dv", "dvs"],
        categories: ["all"],
        columns: [
            .path("Phase", "status.phase"), .path("Progress", "status.progress"),
            .path("Restarts", "status.restartCount", type: "integer"), .age,
        ],
        admission: .typed(DataVolume.self, validate: StorageAdmission.validateDataVolume))

    /// cdi.kubevirt.io/v1beta1 `StorageProfile`: one per StorageClass, same name; status by the StorageProfile
    /// controller. CDI's CRD has no printer columns.
    public static let storageProfile = ResourceType(
        group: "cdi.kubevirt.io", version: "v1beta1", kind: "StorageProfile", plural: "storageprofiles", namespaced: false,
        admission: .typed(StorageProfile.self, validate: StorageProfileAdmission.validate))

    /// cdi.kubevirt.io/v1beta1 `DataSource`: a named, populated PVC that DataVolumes clone through `sourceRef`.
    public static let dataSource = ResourceType(
        group: "cdi.kubevirt.io", version: "v1beta1", kind: "DataSource", plural: "datasources", shortNames: ["das"],
        categories: ["all"],
        columns: [.condition("Ready", type: "Ready"), .age],
        admission: .typed(DataSource.self, validate: DataSourceAdmission.validate))
}
