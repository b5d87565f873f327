import VirtAPI

/// A server-side `Table` (`meta.k8s.io/v1`), or the `NAME AGE` table built from plain objects when the
/// server did not send one.
public struct ResourceTable: Sendable, Equatable {
    /// One `columnDefinitions` entry.
    public struct Column: Sendable, Equatable {
        /// The column title, e.g. `Name`.
        public var name: String
        /// `string`, `integer`, `number`, `boolean` or `date`.
        public var type: String
        /// `name` marks the column holding the object name.
        public var format: String
        /// 0: always shown; higher: only with `-o wide`.
        public var priority: Int

        /// Creates a column.
        public init(name: String, type: String = "string", format: String = "", priority: Int = 0) {
            self.name = name
            self.type = type
            self.format = format
            self.priority = priority
        }
    }

    /// One row: its cells and the object (usually `PartialObjectMetadata`) it describes.
    public struct Row: Sendable, Equatable {
        /// The cell values, one per column.
        public var cells: [JSONValue]
        /// The object the row shows (for a server Table, usually `PartialObjectMetadata`).
        public var object: JSONValue?

        /// Creates a row.
        public init(cells: [JSONValue], object: JSONValue? = nil) {
            self.cells = cells
            self.object = object
        }

        /// The row object's namespace.
        public var namespace: String? { object?[path: ["metadata", "namespace"]]?.stringValue }
        /// The row object's name.
        public var name: String? { object?[path: ["metadata", "name"]]?.stringValue }
    }

    /// The column definitions.
    public var columns: [Column]
    /// The rows.
    public var rows: [Row]
    /// `metadata.resourceVersion` of the table (where a watch should start).
    public var resourceVersion: String?
    /// `metadata.continue`: the next page's token.
    public var continueToken: String?

    /// Creates a table.
    public init(columns: [Column], rows: [Row], resourceVersion: String? = nil, continueToken: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }

    /// Parses a `Table` object; nil for anything else.
    public init?(table: JSONValue) {
        guard table["kind"]?.stringValue == "Table" else { return nil }
        columns = (table["columnDefinitions"]?.arrayValue ?? []).map { column in
            Column(
                name: column["name"]?.stringValue ?? "",
                type: column["type"]?.stringValue ?? "string",
                format: column["format"]?.stringValue ?? "",
                priority: column["priority"]?.intValue.map(Int.init) ?? 0
            )
        }
        rows = (table["rows"]?.arrayValue ?? []).map { row in
            Row(cells: row["cells"]?.arrayValue ?? [], object: row["object"])
        }
        resourceVersion = table[path: ["metadata", "resourceVersion"]]?.stringValue
        continueToken = table[path: ["metadata", "continue"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The table for a server response: a `Table` as is; a list or a single object as `NAME AGE` rows.
    public init(response: JSONValue) {
        if let table = ResourceTable(table: response) {
            self = table
            return
        }
        if let items = response["items"]?.arrayValue {
            self = ResourceTable.fallback(objects: items)
            resourceVersion = response[path: ["metadata", "resourceVersion"]]?.stringValue
            continueToken = response[path: ["metadata", "continue"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } else {
            self = ResourceTable.fallback(objects: [response])
        }
    }

    /// `NAME AGE` rows for plain objects, as kubectl prints when the server sends no `Table`.
    public static func fallback(objects: [JSONValue]) -> ResourceTable {
        ResourceTable(
            columns: [Column(name: "Name", format: "name"), Column(name: "Age", type: "date")],
            rows: objects.map { object in
                Row(
                    cells: [
                        object[path: ["metadata", "name"]] ?? .string(""),
                        object[path: ["metadata", "creationTimestamp"]] ?? .null,
                    ],
                    object: object
                )
            }
        )
    }

    /// The index of the column holding object names (format `name`, else the first).
    public var nameColumnIndex: Int { columns.firstIndex { $0.format == "name" } ?? 0 }
}
