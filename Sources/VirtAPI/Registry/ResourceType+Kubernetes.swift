/// Kinds of Kubernetes' other API groups: storage, coordination, policy and certificates.
extension ResourceType {
    /// storage.k8s.io/v1 `StorageClass`.
    public static let storageClass = ResourceType(
        group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses", namespaced: false,
        shortNames: ["sc"], subresources: [],
        columns: [
            .path("Provisioner", "provisioner"), .path("ReclaimPolicy", "reclaimPolicy"),
            .path("VolumeBindingMode", "volumeBindingMode"), .path("AllowVolumeExpansion", "allowVolumeExpansion"), .age,
        ],
        admission: .typed(StorageClass.self, validate: StorageAdmission.validateStorageClass))

    /// coordination.k8s.io/v1 `Lease`.
    public static let lease = ResourceType(
        group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", subresources: [],
        columns: [.path("Holder", "spec.holderIdentity"), .age],
        admission: .typed(Lease.self))

    /// policy/v1 `Eviction`: only ever posted to pods/NAME/eviction; it is listed for its schema.
    public static let eviction = ResourceType(
        group: "policy", version: "v1", kind: "Eviction", plural: "evictions", subresources: [], verbs: ["create"],
        admission: .typed(Eviction.self),
        protobuf: ProtobufMessage([
            1: ("metadata", .message(.objectMeta)),
            2: ("deleteOptions", .message(ProtobufMessage([
                1: ("gracePeriodSeconds", .int),
                2: ("preconditions", .message(ProtobufMessage([1: ("uid", .string), 2: ("resourceVersion", .string)]))),
                3: ("orphanDependents", .bool), 4: ("propagationPolicy", .string), 5: ("dryRun", .repeated(.string)),
            ]))),
        ]))

    /// certificates.k8s.io/v1 `CertificateSigningRequest`: a request to a named signer for a certificate,
    /// approved or denied through `approval` (which writes only `status.conditions`) and issued by the
    /// signer into `status.certificate`. Printed as kubectl prints it.
    public static let certificateSigningRequest = ResourceType(
        group: "certificates.k8s.io", version: "v1", kind: "CertificateSigningRequest", plural: "certificatesigningrequests",
        namespaced: false, shortNames: ["csr"], subresources: ["status", "approval"],
        subresourceWrites: ["approval": ["status", "conditions"]],
        columns: [
            .age,
            PrinterColumn("SignerName") { csr in
                guard let signer = csr[path: ["spec", "signerName"]]?.stringValue, !signer.isEmpty else { return "<none>" }
                return .string(signer)
            },
            .path("Requestor", "spec.username"),
            PrinterColumn("RequestedDuration") { csr in
                guard let seconds = csr[path: ["spec", "expirationSeconds"]]?.intValue else { return "<none>" }
                return .string(PrinterColumn.humanDuration(seconds: seconds))
            },
            PrinterColumn("Condition") { .string(ResourceType.certificateCondition($0)) },
        ],
        selectableFields: ["spec.signerName"],
        admission: .typed(CertificateAdmission.Request.self, validate: CertificateAdmission.validate),
        // `kubectl certificate approve|deny` sends the request back this way, to `approval`, which takes
        // only the conditions. `spec.extra` (a map of string lists) is not read.
        protobuf: ProtobufMessage([
            1: ("metadata", .message(.objectMeta)),
            2: ("spec", .message(ProtobufMessage([
                1: ("request", .bytes), 2: ("username", .string), 3: ("uid", .string), 4: ("groups", .repeated(.string)),
                5: ("usages", .repeated(.string)), 7: ("signerName", .string), 8: ("expirationSeconds", .int),
            ]))),
            3: ("status", .message(ProtobufMessage([
                1: ("conditions", .repeated(.message(ProtobufMessage([
                    1: ("type", .string), 6: ("status", .string), 2: ("reason", .string), 3: ("message", .string),
                    4: ("lastUpdateTime", .time), 5: ("lastTransitionTime", .time),
                ])))),
                2: ("certificate", .bytes),
            ]))),
        ]))

    /// A CertificateSigningRequest's state as kubectl shows it: Denied, Approved or Pending, then `,Failed`
    /// when it failed and `,Issued` once it holds a certificate (`Approved,Issued`).
    static func certificateCondition(_ csr: JSONValue) -> String {
        let types = (csr[path: ["status", "conditions"]]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue }
        var text = types.contains("Denied") ? "Denied" : types.contains("Approved") ? "Approved" : "Pending"
        if types.contains("Failed") { text += ",Failed" }
        if let certificate = csr[path: ["status", "certificate"]]?.stringValue, !certificate.isEmpty { text += ",Issued" }
        return text
    }
}
