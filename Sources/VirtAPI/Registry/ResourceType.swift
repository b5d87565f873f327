/// One kind the API server serves: where it lives in the REST tree and how it prints.
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
    /// Extra columns of `kubectl get` (Name comes first on its own).
    public var columns: [PrinterColumn]
    /// Fields a field selector may use besides `metadata.name` and `metadata.namespace`.
    public var selectableFields: [String]
    /// Verbs offered; a read-only kind (none yet) would leave out the writes.
    public var verbs: [String]

    public init(
        group: String, version: String, kind: String, plural: String, namespaced: Bool = true,
        shortNames: [String] = [], categories: [String] = [], subresources: [String] = ["status"],
        columns: [PrinterColumn] = [.age], selectableFields: [String] = [],
        verbs: [String] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
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
        self.columns = columns
        self.selectableFields = selectableFields
        self.verbs = verbs
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

    /// The `status` of the condition of the given type (`Ready` → "True").
    public static func condition(_ name: String, type conditionType: String, priority: Int = 0) -> PrinterColumn {
        PrinterColumn(name, priority: priority) { object in
            let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
            return conditions.first { $0["type"]?.stringValue == conditionType }?["status"] ?? .null
        }
    }
}
