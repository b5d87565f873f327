/// The kinds a Kubernetes cluster would define as CustomResourceDefinitions, and the definition of each as
/// `apiextensions.k8s.io/v1` describes it. SwiftVirt builds them in; the definitions are generated from the
/// registry so that clients which look for them (kubectl's validation, operators' readiness checks) find
/// what a KubeVirt cluster shows.
extension ResourceType {
    /// The groups Kubernetes itself serves; every other group's kinds are custom resources there.
    static let builtInGroups: Set<String> = ["", "apps", "batch", "policy", "autoscaling", "extensions"]

    /// `true` for a kind that a Kubernetes cluster gets from a CustomResourceDefinition (KubeVirt's, CDI's,
    /// Multus', nmstate's …), `false` for Kubernetes' own (`core`, `policy`, the `*.k8s.io` groups) and for
    /// kinds an aggregated API server serves (CDI's create-only `UploadTokenRequest` is cdi-apiserver's).
    public var isCustomResource: Bool {
        !(Self.builtInGroups.contains(group) || group.hasSuffix(".k8s.io") || group.hasSuffix(".kubernetes.io")
            || group == CDINames.Upload.tokenGroup)
    }

    /// The definition's name: `virtualmachines.kubevirt.io`.
    public var customResourceDefinitionName: String { "\(plural).\(group)" }

    /// The namespace of the definitions' name-based UIDs.
    static let definitionNamespace: [UInt8] = [
        0x2f, 0x8e, 0x3c, 0x51, 0x9a, 0x0b, 0x4d, 0x6e, 0xa1, 0x57, 0x0c, 0xd4, 0x7b, 0x63, 0x19, 0xe2,
    ]

    /// The UID of the definition called `name`: the same on every start of every server, as the
    /// definitions are.
    public static func customResourceDefinitionUID(name: String) -> String {
        FirmwareUUID.nameBased(namespace: definitionNamespace, name: name)
    }

    /// apiextensions.k8s.io/v1 `CustomResourceDefinition`: read-only, generated from the registry.
    public static let customResourceDefinition = ResourceType(
        group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions",
        namespaced: false, shortNames: ["crd", "crds"], categories: ["api-extensions"], subresources: [],
        columns: [PrinterColumn("Created At", description: "The time the definition was created.") {
            $0[path: ["metadata", "creationTimestamp"]] ?? .null
        }],
        verbs: ["get", "list"])

    /// This kind's CustomResourceDefinition, as a cluster with KubeVirt installed shows it. `metadata` holds
    /// what the server adds (uid, creationTimestamp, resourceVersion).
    public func customResourceDefinitionObject(metadata: [String: JSONValue]) -> JSONValue {
        var meta = metadata
        meta["name"] = .string(customResourceDefinitionName)
        meta["generation"] = 1
        var names: [String: JSONValue] = [
            "plural": .string(plural), "singular": .string(singular), "kind": .string(kind), "listKind": .string(listKind),
        ]
        if !shortNames.isEmpty { names["shortNames"] = .array(shortNames.map { .string($0) }) }
        if !categories.isEmpty { names["categories"] = .array(categories.map { .string($0) }) }
        var version: [String: JSONValue] = [
            "name": .string(self.version), "served": true, "storage": true,
            "schema": ["openAPIV3Schema": customResourceSchema],
        ]
        if hasStatus { version["subresources"] = ["status": [:]] }
        let accepted: JSONValue = .object(names)
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": .object(meta),
            "spec": [
                "group": .string(group), "names": accepted, "scope": namespaced ? "Namespaced" : "Cluster",
                "versions": [.object(version)],
            ],
            "status": [
                "acceptedNames": accepted, "storedVersions": [.string(self.version)],
                "conditions": [
                    ["type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found",
                     "lastTransitionTime": meta["creationTimestamp"] ?? .null],
                    ["type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted", "lastTransitionTime": meta["creationTimestamp"] ?? .null],
                ],
            ],
        ]
    }

    /// The structural schema of the kind: the standard top-level fields, with `spec` and `status` keeping
    /// whatever they hold (validation is the server's admission, as KubeVirt's is its webhooks').
    public var customResourceSchema: JSONValue {
        [
            "type": "object",
            "description": .string("\(kind) (\(apiVersion))."),
            "properties": [
                "apiVersion": ["type": "string", "description": "The versioned schema of this representation of an object."],
                "kind": ["type": "string", "description": "The REST resource this object represents."],
                "metadata": ["type": "object"],
                "spec": ["type": "object", "description": .string("The desired state of the \(kind)."), "x-kubernetes-preserve-unknown-fields": true],
                "status": ["type": "object", "description": .string("The observed state of the \(kind)."), "x-kubernetes-preserve-unknown-fields": true],
            ],
            "x-kubernetes-preserve-unknown-fields": true,
        ]
    }
}
