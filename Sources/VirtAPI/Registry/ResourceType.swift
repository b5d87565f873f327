/// One kind the API server serves, described in one place: where it lives in the REST tree, how it prints,
/// how admission checks it and, for the kinds kubectl sends so, its protobuf message.
public struct ResourceType: Sendable {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural, lower-case resource name used in paths (`virtualmachines`).
    public var plural: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Subresources beyond the object itself (`status`).
    public var subresources: [String]
    /// The part of the object a write to a subresource replaces, as a path (`status` → `status`,
    /// a CertificateSigningRequest's `approval` → `status.conditions`); the rest is kept as stored.
    /// A subresource not listed takes the whole object.
    public var subresourceWrites: [String: [String]]
    /// Extra columns of `kubectl get` (Name comes first on its own).
    public var columns: [PrinterColumn]
    /// Fields a field selector may use besides `metadata.name` and `metadata.namespace`.
    public var selectableFields: [String]
    /// Verbs offered; a read-only kind (none yet) would leave out the writes.
    public var verbs: [String]
    /// Strict field checking, validation and defaulting (`nil`: the object is stored as sent).
    public var admission: KindAdmission?
    /// The kind's message in Kubernetes' protobuf encoding (`nil`: bodies must be JSON or YAML).
    public var protobuf: ProtobufMessage?
    /// Brings every write (create, update, patch, apply) into the kind's stored form before validation, as
    /// Kubernetes' decoding does: a Secret's `stringData` folded into `data`. `nil`: stored as sent.
    public var normalize: (@Sendable (inout JSONValue) -> Void)?

    public init(
        group: String, version: String, kind: String, plural: String, namespaced: Bool = true,
        shortNames: [String] = [], categories: [String] = [], subresources: [String] = ["status"],
        subresourceWrites: [String: [String]] = [:],
        columns: [PrinterColumn] = [.age], selectableFields: [String] = [],
        verbs: [String] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        admission: KindAdmission? = nil, protobuf: ProtobufMessage? = nil,
        normalize: (@Sendable (inout JSONValue) -> Void)? = nil
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        var writes = subresourceWrites
        if subresources.contains("status"), writes["status"] == nil { writes["status"] = ["status"] }
        self.subresourceWrites = writes
        self.columns = columns
        self.selectableFields = selectableFields
        self.verbs = verbs
        self.admission = admission
        self.protobuf = protobuf
        self.normalize = normalize
    }

    /// `kubevirt.io/v1`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `virtualmachines.kubevirt.io`, or `pods` for the core group: how Kubernetes names a resource in messages.
    public var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }
    /// `VirtualMachine.kubevirt.io`, or `Pod`: how Kubernetes names a kind in validation messages.
    public var displayKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
    /// The key prefix in the store.
    public var storeResource: String { "\(group)/\(plural)" }
    public var listKind: String { "\(kind)List" }
    public var hasStatus: Bool { subresources.contains("status") }

    /// Every field a field selector may name for this kind.
    public var supportedFieldSelectors: Set<String> {
        Set(["metadata.name", "metadata.namespace"] + selectableFields)
    }

    /// The stored form of a written object: `null` members dropped (no served field is nullable), then the
    /// kind's own `normalize`. Runs on every write, before defaults and validation. Idempotent.
    public func normalized(_ object: JSONValue) -> JSONValue {
        var result = object.hasNullMembers ? object.droppingNullMembers() : object
        normalize?(&result)
        return result
    }

    /// Fills in the kind's defaults (on create, and on every update of the object but not of its status).
    /// Idempotent and deterministic.
    public func applyDefaults(_ object: inout JSONValue) {
        admission?.applyDefaults(&object)
    }

    /// What admission finds in `object`, decoded once: the causes that make it invalid and the fields the
    /// kind does not model. `old` is the stored object on update, `nil` on create.
    public func review(_ object: JSONValue, old: JSONValue?) -> Admission.Review {
        admission?.review(object, old) ?? Admission.Review(causes: [], unknownFields: [])
    }
}

/// A column of the server-side Table (`kubectl get`).
public struct PrinterColumn: Sendable {
    public var name: String
    /// OpenAPI type: string, integer, number, boolean or date.
    public var type: String
    public var format: String
    public var priority: Int
    public var description: String
    public var cell: @Sendable (JSONValue) -> JSONValue

    public init(_ name: String, type: String = "string", format: String = "", priority: Int = 0, description: String = "", cell: @escaping @Sendable (JSONValue) -> JSONValue) {
        self.name = name
        self.type = type
        self.format = format
        self.priority = priority
        self.description = description
        self.cell = cell
    }

    /// A column showing the value at a dotted path (`status.phase`).
    public static func path(_ name: String, _ path: String, type: String = "string", priority: Int = 0) -> PrinterColumn {
        let keys = path.split(separator: ".").map(String.init)
        return PrinterColumn(name, type: type, priority: priority) { $0[path: keys] ?? .null }
    }

    /// The age of the object, from `metadata.creationTimestamp`.
    public static let age = PrinterColumn("Age", type: "date") { $0[path: ["metadata", "creationTimestamp"]] ?? .null }

    /// A duration as Kubernetes prints one (`duration.HumanDuration`): `90s`, `3m20s`, `5h`, `2d4h`, `1y30d`.
    public static func humanDuration(seconds: Int64) -> String {
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 60 * 2 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 {
            let rest = seconds % 60
            return rest == 0 ? "\(minutes)m" : "\(minutes)m\(rest)s"
        }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 {
            let rest = minutes % 60
            return rest == 0 ? "\(hours)h" : "\(hours)h\(rest)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let rest = hours % 24
            return rest == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(rest)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let rest = hours / 24 % 365
            return rest == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(rest)d"
        }
        return "\(hours / 24 / 365)y"
    }

    /// The `status` of the condition of the given type (`Ready` → "True").
    public static func condition(_ name: String, type conditionType: String, priority: Int = 0) -> PrinterColumn {
        PrinterColumn(name, priority: priority) { object in
            let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
            return conditions.first { $0["type"]?.stringValue == conditionType }?["status"] ?? .null
        }
    }
}
