/// The core (`v1`) kinds.
extension ResourceType {
    /// v1 `Namespace`.
    public static let namespace = ResourceType(
        group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, shortNames: ["ns"],
        subresources: ["status", "finalize"],
        columns: [.path("Status", "status.phase"), .age], selectableFields: ["status.phase"],
        admission: .typed(Namespace.self),
        protobuf: ProtobufMessage([
            1: ("metadata", .message(.objectMeta)),
            2: ("spec", .message(ProtobufMessage([1: ("finalizers", .repeated(.string))]))),
        ]))

    /// v1 `Node`.
    public static let node = ResourceType(
        group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false, shortNames: ["no"],
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
        selectableFields: ["spec.unschedulable"],
        admission: .typed(Node.self))

    /// v1 `Service`.
    public static let service = ResourceType(
        group: "", version: "v1", kind: "Service", plural: "services", shortNames: ["svc"], categories: ["all"],
        columns: [
            .path("Type", "spec.type"),
            PrinterColumn("Cluster-IP") { $0[path: ["spec", "clusterIP"]] ?? .string("<none>") },
            PrinterColumn("External-IP") { service in
                let external = (service[path: ["spec", "externalIPs"]]?.arrayValue ?? []).compactMap(\.stringValue)
                return .string(external.isEmpty ? "<none>" : external.joined(separator: ","))
            },
            PrinterColumn("Port(s)") { service in
                let ports = (service[path: ["spec", "ports"]]?.arrayValue ?? []).map { port -> String in
                    let number = port["port"]?.intValue.map(String.init) ?? "?"
                    let node = port["nodePort"]?.intValue.map { ":\($0)" } ?? ""
                    return "\(number)\(node)/\(port["protocol"]?.stringValue ?? "TCP")"
                }
                return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
            },
            .age,
            PrinterColumn("Selector", priority: 1) { service in
                let selector = service[path: ["spec", "selector"]]?.objectValue ?? [:]
                return .string(selector.isEmpty ? "<none>" : selector.keys.sorted().map { "\($0)=\(selector[$0]?.stringValue ?? "")" }.joined(separator: ","))
            },
        ],
        admission: .typed(KubeService.self, validate: ServiceAdmission.validate, defaults: ServiceAdmission.defaults))

    /// discovery.k8s.io/v1 `EndpointSlice`.
    public static let endpointSlice = ResourceType(
        group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", subresources: [],
        columns: [
            .path("AddressType", "addressType"),
            PrinterColumn("Ports") { slice in
                let ports = (slice["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue.map(String.init) }
                return .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ","))
            },
            PrinterColumn("Endpoints") { slice in
                let addresses = (slice["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) }
                return .string(addresses.isEmpty ? "<unset>" : addresses.joined(separator: ","))
            },
            .age,
        ],
        admission: .typed(EndpointSlice.self, validate: ServiceAdmission.validateEndpointSlice))

    /// v1 `Pod`.
    public static let pod = ResourceType(
        group: "", version: "v1", kind: "Pod", plural: "pods", shortNames: ["po"], categories: ["all"],
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
        selectableFields: ["spec.nodeName", "status.phase", "spec.schedulerName"],
        admission: .typed(Pod.self))

    /// v1 `PersistentVolumeClaim`.
    public static let persistentVolumeClaim = ResourceType(
        group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", shortNames: ["pvc"],
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
        ],
        admission: .typed(PersistentVolumeClaim.self, validate: StorageAdmission.validatePersistentVolumeClaim,
                          defaults: StorageAdmission.applyPersistentVolumeClaimDefaults))

    /// v1 `PersistentVolume`.
    public static let persistentVolume = ResourceType(
        group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", namespaced: false, shortNames: ["pv"],
        columns: [
            .path("Capacity", "spec.capacity.storage"),
            .path("Reclaim Policy", "spec.persistentVolumeReclaimPolicy"),
            .path("Status", "status.phase"),
            PrinterColumn("Claim") { pv in
                guard let name = pv[path: ["spec", "claimRef", "name"]]?.stringValue else { return "" }
                return .string("\(pv[path: ["spec", "claimRef", "namespace"]]?.stringValue ?? "")/\(name)")
            },
            .path("StorageClass", "spec.storageClassName"), .age,
        ],
        admission: .typed(PersistentVolume.self))

    /// v1 `Event`.
    public static let event = ResourceType(
        group: "", version: "v1", kind: "Event", plural: "events", shortNames: ["ev"], subresources: [],
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
        ],
        admission: .typed(Event.self))

    /// v1 `Secret`.
    public static let secret = ResourceType(
        group: "", version: "v1", kind: "Secret", plural: "secrets", subresources: [],
        columns: [
            .path("Type", "type"),
            PrinterColumn("Data", type: "integer") { .int(Int64($0["data"]?.objectValue?.count ?? 0)) },
            .age,
        ],
        selectableFields: ["type"],
        admission: .typed(Secret.self, validate: ConfigAdmission.validateSecret),
        protobuf: ProtobufMessage([
            1: ("metadata", .message(.objectMeta)), 2: ("data", .bytesMap), 3: ("type", .string), 4: ("stringData", .stringMap),
            5: ("immutable", .bool),
        ]),
        normalize: ConfigAdmission.normalizeSecret)

    /// v1 `ConfigMap`.
    public static let configMap = ResourceType(
        group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"], subresources: [],
        columns: [
            PrinterColumn("Data", type: "integer") {
                .int(Int64(($0["data"]?.objectValue?.count ?? 0) + ($0["binaryData"]?.objectValue?.count ?? 0)))
            },
            .age,
        ],
        admission: .typed(ConfigMap.self, validate: ConfigAdmission.validateConfigMap),
        protobuf: ProtobufMessage([
            1: ("metadata", .message(.objectMeta)), 2: ("data", .stringMap), 3: ("binaryData", .bytesMap), 4: ("immutable", .bool),
        ]))
}
