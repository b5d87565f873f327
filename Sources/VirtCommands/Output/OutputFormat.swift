import VirtError

/// The `-o/--output` choices.
public enum OutputFormat: Sendable, Equatable {
    /// A server-side table (the default).
    case table
    /// A table including priority columns.
    case wide
    case yaml
    case json
    /// `kind.group/name` per object.
    case name
    /// A JSONPath template (`-o jsonpath='{.status.printableStatus}'`).
    case jsonpath(String)

    /// Parses what follows `-o`.
    public init(_ text: String?) throws(VirtError) {
        guard let text, !text.isEmpty else {
            self = .table
            return
        }
        switch text {
        case "wide": self = .wide
        case "yaml": self = .yaml
        case "json": self = .json
        case "name": self = .name
        default:
            for prefix in ["jsonpath=", "jsonpath-as-text="] where text.hasPrefix(prefix) {
                self = .jsonpath(String(text.dropFirst(prefix.count)))
                return
            }
            throw VirtError(
                .badRequest,
                "unable to match a printer suitable for the output format \"\(text)\", allowed formats are: json, jsonpath, name, wide, yaml"
            )
        }
    }

    /// Whether this prints a table (asks the server for `Table`s).
    public var isTable: Bool { self == .table || self == .wide }
}
