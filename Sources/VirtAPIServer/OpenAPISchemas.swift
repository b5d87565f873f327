import VirtAPI

/// The schemas both OpenAPI documents carry: one per kind and its list, and the shared meta/v1 types
/// (ObjectMeta, ListMeta, Status, DeleteOptions, Patch). The two documents differ only in where a
/// reference points and in how a kind's object is described (see `kind(_:style:)`).
enum OpenAPISchemas {
    enum Style: Sendable {
        /// OpenAPI 3.0: `#/components/schemas/…`.
        case v3
        /// Swagger 2.0: `#/definitions/…`.
        case v2
    }

    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    static let listMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
    static let status = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    static let deleteOptions = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
    static let patch = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"

    /// The media types a PATCH is declared to take. Strategic merge is left out even for the core kinds
    /// that accept it: kubectl computes a strategic merge patch from the schema of a kind declared to take
    /// one, and these schemas do not list every field, so it would warn and fall back; undeclared, it
    /// uses its built-in types for core kinds and a merge patch for the rest, as against Kubernetes.
    static let patchMediaTypes = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"]

    /// Where a document's schemas are referred to.
    static func prefix(_ style: Style) -> String {
        style == .v3 ? "#/components/schemas/" : "#/definitions/"
    }

    /// `io.kubevirt.v1.VirtualMachine`, `io.k8s.api.core.v1.Pod`: the schema name of a kind.
    static func name(_ type: ResourceType, kind: String? = nil) -> String {
        let groupPart = type.group.isEmpty ? "io.k8s.api.core" : type.group.split(separator: ".").reversed().joined(separator: ".")
        return "\(groupPart).\(type.version).\(kind ?? type.kind)"
    }

    /// The tag operations of a group/version carry (`kubevirtIo_v1`, `core_v1`).
    static func tag(_ type: ResourceType) -> String {
        let group = type.group.isEmpty ? "core" : type.group.replacingOccurrences(of: ".", with: "_")
        return "\(group)_\(type.version)"
    }

    /// Where an operation's answer is described.
    static func reference(_ answer: OpenAPIPathItem.Answer, type: ResourceType, style: Style) -> String {
        switch answer {
        case .object: prefix(style) + name(type)
        case .list: prefix(style) + name(type, kind: type.listKind)
        case .status: prefix(style) + status
        }
    }

    /// The `x-kubernetes-group-version-kind` list of a schema.
    static func gvk(_ type: ResourceType, kind: String? = nil) -> JSONValue {
        [["group": .string(type.group), "version": .string(type.version), "kind": .string(kind ?? type.kind)]]
    }

    /// The kind's schema and its list's.
    ///
    /// In v3 a kind lists its standard fields, `spec` and `status` keeping any content: `kubectl explain`
    /// shows them and kubectl leaves validation to the server. In v2 a kind is an object of any fields,
    /// since kubectl validates `kind: List` items against v2 on its own and rejects any field a schema
    /// does not list (Secrets' `data`, Events' `reason` …); the server validates them instead.
    static func kind(_ type: ResourceType, style: Style) -> [String: JSONValue] {
        let description = JSONValue.string("\(type.kind) (\(type.apiVersion)).")
        let object: JSONValue
        switch style {
        case .v3:
            object = [
                "type": "object", "description": description, "x-kubernetes-group-version-kind": gvk(type),
                "properties": [
                    "apiVersion": ["type": "string", "description": "The versioned schema of this representation of an object."],
                    "kind": ["type": "string", "description": "The REST resource this object represents."],
                    "metadata": ["$ref": .string(prefix(style) + objectMeta)],
                    "spec": ["type": "object", "description": .string("The desired state of the \(type.kind)."),
                             "x-kubernetes-preserve-unknown-fields": true],
                    "status": ["type": "object", "description": .string("The observed state of the \(type.kind)."),
                               "x-kubernetes-preserve-unknown-fields": true],
                ],
                "x-kubernetes-preserve-unknown-fields": true,
            ]
        case .v2:
            object = ["type": "object", "description": description, "x-kubernetes-group-version-kind": gvk(type)]
        }
        let list: JSONValue = [
            "type": "object", "description": .string("A list of \(type.kind) objects."), "required": ["items"],
            "x-kubernetes-group-version-kind": gvk(type, kind: type.listKind),
            "properties": [
                "apiVersion": ["type": "string"], "kind": ["type": "string"],
                "metadata": ["$ref": .string(prefix(style) + listMeta)],
                "items": ["type": "array", "items": ["$ref": .string(prefix(style) + name(type))]],
            ],
        ]
        return [name(type): object, name(type, kind: type.listKind): list]
    }

    /// The meta/v1 schemas every document refers to.
    static func shared(style: Style) -> [String: JSONValue] {
        let stringMap: JSONValue = ["type": "object", "additionalProperties": ["type": "string"]]
        let strings: JSONValue = ["type": "array", "items": ["type": "string"]]
        return [
            objectMeta: [
                "type": "object", "description": "Standard object metadata.",
                "properties": [
                    "name": ["type": "string"], "generateName": ["type": "string"], "namespace": ["type": "string"],
                    "uid": ["type": "string"], "resourceVersion": ["type": "string"], "generation": ["type": "integer", "format": "int64"],
                    "creationTimestamp": ["type": "string", "format": "date-time"],
                    "deletionTimestamp": ["type": "string", "format": "date-time"],
                    "deletionGracePeriodSeconds": ["type": "integer", "format": "int64"],
                    "labels": stringMap, "annotations": stringMap, "finalizers": strings,
                    "ownerReferences": ["type": "array", "items": [
                        "type": "object", "required": ["apiVersion", "kind", "name", "uid"],
                        "properties": [
                            "apiVersion": ["type": "string"], "kind": ["type": "string"], "name": ["type": "string"],
                            "uid": ["type": "string"], "controller": ["type": "boolean"], "blockOwnerDeletion": ["type": "boolean"],
                        ],
                    ]],
                    "managedFields": ["type": "array", "items": ["type": "object"]],
                ],
            ],
            listMeta: [
                "type": "object", "description": "Standard list metadata.",
                "properties": [
                    "resourceVersion": ["type": "string"], "continue": ["type": "string"],
                    "remainingItemCount": ["type": "integer", "format": "int64"],
                ],
            ],
            status: [
                "type": "object", "description": "Status is a return value for calls that do not return other objects.",
                "properties": [
                    "apiVersion": ["type": "string"], "kind": ["type": "string"],
                    "metadata": ["$ref": .string(prefix(style) + listMeta)],
                    "status": ["type": "string"], "message": ["type": "string"], "reason": ["type": "string"],
                    "code": ["type": "integer", "format": "int32"],
                    "details": ["type": "object", "properties": [
                        "name": ["type": "string"], "group": ["type": "string"], "kind": ["type": "string"],
                        "uid": ["type": "string"], "retryAfterSeconds": ["type": "integer", "format": "int32"],
                        "causes": ["type": "array", "items": ["type": "object", "properties": [
                            "reason": ["type": "string"], "message": ["type": "string"], "field": ["type": "string"],
                        ]]],
                    ]],
                ],
            ],
            deleteOptions: [
                "type": "object", "description": "DeleteOptions may be provided when deleting an API object.",
                "properties": [
                    "apiVersion": ["type": "string"], "kind": ["type": "string"], "dryRun": strings,
                    "gracePeriodSeconds": ["type": "integer", "format": "int64"], "orphanDependents": ["type": "boolean"],
                    "propagationPolicy": ["type": "string"],
                    "preconditions": ["type": "object", "properties": [
                        "resourceVersion": ["type": "string"], "uid": ["type": "string"],
                    ]],
                ],
            ],
            patch: [
                "type": "object",
                "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
            ],
        ]
    }
}
