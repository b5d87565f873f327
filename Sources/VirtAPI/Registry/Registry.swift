/// Every kind the server knows, and look-ups by path and by apiVersion/kind.
public struct Registry: Sendable {
    public let types: [ResourceType]

    public init(types: [ResourceType]) {
        self.types = types
    }

    /// The API group/versions in the order discovery lists them (core first).
    public var groupVersions: [(group: String, version: String)] {
        var seen: [String] = []
        var result: [(String, String)] = []
        for type in types where !seen.contains(type.apiVersion) {
            seen.append(type.apiVersion)
            result.append((type.group, type.version))
        }
        return result
    }

    public func resource(group: String, version: String, plural: String) -> ResourceType? {
        types.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    public func resource(apiVersion: String, kind: String) -> ResourceType? {
        types.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    public func resources(group: String, version: String) -> [ResourceType] {
        types.filter { $0.group == group && $0.version == version }
    }

    /// The kinds SwiftVirt serves.
    public static let standard = Registry(types: [
        // core/v1
        ResourceType(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, shortNames: ["ns"],
                     subresources: ["status", "finalize"],
                     columns: [.path("Status", "status.phase"), .age], selectableFields: ["status.phase"]),
        ResourceType(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false, shortNames: ["no"],
                     columns: [
                        PrinterColumn("Status") { node in
                            let ready = PrinterColumn.condition("Ready", type: "Ready").cell(node).stringValue
                            var text = ready == "True" ? "Ready" : "NotReady"
                            if node[path: ["spec", "unschedulable"]]?.boolValue == true { text += ",SchedulingDisabled" }
                            return .string(text)
                        },
                        PrinterColumn("Roles") { node in
                            let labels = node[path: ["metadata", "labels"]]?.objectValue ?? [:]
                            let roles = labels.keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }
                                .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
                            return .string(roles.isEmpty ? "<none>" : roles.joined(separator: ","))
                        },
                        .age,
                        .path("Version", "status.nodeInfo.kubeletVersion"),
                        PrinterColumn("Internal-IP", priority: 1) { node in
                            let addresses = node[path: ["status", "addresses"]]?.arrayValue ?? []
                            return addresses.first { $0["type"]?.stringValue == "InternalIP" }?["address"] ?? .string("<none>")
                        },
                     ],
                     selectableFields: ["spec.unschedulable"]),
        ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", shortNames: ["po"], categories: ["all"],
                     subresources: ["status", "eviction", "log", "exec"],
                     columns: [
                        PrinterColumn("Ready") { pod in
                            let total = pod[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
                            let statuses = pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []
                            let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
                            return .string("\(ready)/\(total)")
                        },
                        PrinterColumn("Status") { pod in
                            if pod[path: ["metadata", "deletionTimestamp"]] != nil { return "Terminating" }
                            return pod[path: ["status", "reason"]] ?? pod[path: ["status", "phase"]] ?? "Pending"
                        },
                        PrinterColumn("Restarts", type: "integer") { pod in
                            let statuses = pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []
                            return .int(statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) })
                        },
                        .age,
                        .path("IP", "status.podIP", priority: 1),
                        .path("Node", "spec.nodeName", priority: 1),
                     ],
                     selectableFields: ["spec.nodeName", "status.phase", "spec.schedulerName"]),
        ResourceType(group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", shortNames: ["pvc"],
                     columns: [
                        .path("Status", "status.phase"), .path("Volume", "spec.volumeName"),
                        .path("Capacity", "status.capacity.storage"),
                        PrinterColumn("Access Modes") { pvc in
                            let modes = pvc[path: ["status", "accessModes"]]?.arrayValue ?? []
                            let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
                            return .string(modes.compactMap { $0.stringValue.map { short[$0] ?? $0 } }.joined(separator: ","))
                        },
                        .path("StorageClass", "spec.storageClassName"), .age,
                        .path("VolumeMode", "spec.volumeMode", priority: 1),
                     ]),
        ResourceType(group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", namespaced: false, shortNames: ["pv"],
                     columns: [
                        .path("Capacity", "spec.capacity.storage"),
                        .path("Reclaim Policy", "spec.persistentVolumeReclaimPolicy"),
                        .path("Status", "status.phase"),
                        PrinterColumn("Claim") { pv in
                            guard let name = pv[path: ["spec", "claimRef", "name"]]?.stringValue else { return "" }
                            return .string("\(pv[path: ["spec", "claimRef", "namespace"]]?.stringValue ?? "")/\(name)")
                        },
                        .path("StorageClass", "spec.storageClassName"), .age,
                     ]),
        ResourceType(group: "", version: "v1", kind: "Event", plural: "events", shortNames: ["ev"], subresources: [],
                     columns: [
                        .path("Type", "type"), .path("Reason", "reason"),
                        PrinterColumn("Object") { event in
                            let kind = event[path: ["involvedObject", "kind"]]?.stringValue?.lowercased() ?? ""
                            let name = event[path: ["involvedObject", "name"]]?.stringValue ?? ""
                            return .string("\(kind)/\(name)")
                        },
                        .path("Message", "message"),
                        PrinterColumn("Last Seen", type: "date") { $0["lastTimestamp"] ?? $0["eventTime"] ?? $0[path: ["metadata", "creationTimestamp"]] ?? .null },
                     ],
                     selectableFields: [
                        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                        "reason", "reportingComponent", "source", "type",
                     ]),
        ResourceType(group: "", version: "v1", kind: "Secret", plural: "secrets", subresources: [],
                     columns: [
                        .path("Type", "type"),
                        PrinterColumn("Data", type: "integer") { .int(Int64($0["data"]?.objectValue?.count ?? 0)) },
                        .age,
                     ],
                     selectableFields: ["type"]),
        ResourceType(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"], subresources: [],
                     columns: [PrinterColumn("Data", type: "integer") { .int(Int64(($0["data"]?.objectValue?.count ?? 0) + ($0["binaryData"]?.objectValue?.count ?? 0))) }, .age]),
        // storage.k8s.io/v1
        ResourceType(group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses", namespaced: false,
                     shortNames: ["sc"], subresources: [],
                     columns: [
                        .path("Provisioner", "provisioner"), .path("ReclaimPolicy", "reclaimPolicy"),
                        .path("VolumeBindingMode", "volumeBindingMode"), .path("AllowVolumeExpansion", "allowVolumeExpansion"), .age,
                     ]),
        // coordination.k8s.io/v1
        ResourceType(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", subresources: [],
                     columns: [.path("Holder", "spec.holderIdentity"), .age]),
        // policy/v1: Eviction is only ever posted to pods/NAME/eviction; it is listed for its schema.
        ResourceType(group: "policy", version: "v1", kind: "Eviction", plural: "evictions", subresources: [], verbs: ["create"]),
        // kubevirt.io/v1
        ResourceType(group: "kubevirt.io", version: "v1", kind: "VirtualMachine", plural: "virtualmachines", shortNames: ["vm", "vms"],
                     categories: ["all"],
                     columns: [.age, .path("Status", "status.printableStatus"), .condition("Ready", type: "Ready")]),
        ResourceType(group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance", plural: "virtualmachineinstances",
                     shortNames: ["vmi", "vmis"], categories: ["all"],
                     columns: [
                        .age, .path("Phase", "status.phase"),
                        PrinterColumn("IP") { $0[path: ["status", "interfaces"]]?.arrayValue?.first?["ipAddress"] ?? .null },
                        .path("NodeName", "status.nodeName"), .condition("Ready", type: "Ready"),
                        .condition("Live-Migratable", type: "LiveMigratable", priority: 1),
                        .condition("Paused", type: "Paused", priority: 1),
                     ],
                     selectableFields: ["status.phase", "status.nodeName"]),
        ResourceType(group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstanceMigration", plural: "virtualmachineinstancemigrations",
                     shortNames: ["vmim", "vmims"], categories: ["all"],
                     columns: [.path("Phase", "status.phase"), .path("VMI", "spec.vmiName")]),
        // migrations.kubevirt.io/v1alpha1
        ResourceType(group: "migrations.kubevirt.io", version: "v1alpha1", kind: "MigrationPolicy", plural: "migrationpolicies",
                     namespaced: false, categories: ["all"]),
        // cdi.kubevirt.io/v1beta1
        ResourceType(group: "cdi.kubevirt.io", version: "v1beta1", kind: "DataVolume", plural: "datavolumes", shortNames: ["dv", "dvs"],
                     categories: ["all"],
                     columns: [.path("Phase", "status.phase"), .path("Progress", "status.progress"),
                               .path("Restarts", "status.restartCount", type: "integer"), .age]),
        // k8s.cni.cncf.io/v1
        ResourceType(group: "k8s.cni.cncf.io", version: "v1", kind: "NetworkAttachmentDefinition", plural: "network-attachment-definitions",
                     shortNames: ["net-attach-def"], subresources: []),
        // nmstate.io/v1
        ResourceType(group: "nmstate.io", version: "v1", kind: "NodeNetworkConfigurationPolicy", plural: "nodenetworkconfigurationpolicies",
                     namespaced: false, shortNames: ["nncp"],
                     columns: [.condition("Status", type: "Available"), PrinterColumn("Reason") { object in
                        let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
                        return conditions.first { $0["status"]?.stringValue == "True" }?["reason"] ?? .null
                     }]),
    ])
}
