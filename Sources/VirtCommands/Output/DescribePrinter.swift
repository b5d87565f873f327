import Foundation
import VirtAPI

/// Prints an object the way `kubectl describe` prints resources it has no special describer for: the name,
/// namespace, labels and annotations, then every field as `Title Case:  value`, nested two spaces per level,
/// then the object's events.
public struct DescribePrinter: Sendable {
    /// The time event ages are computed against.
    public var now: Date

    /// Creates a printer.
    public init(now: Date = Date()) {
        self.now = now
    }

    /// The description of `object` with its `events` (items of an `EventList`; `nil` or empty: `<none>`).
    public func render(_ object: JSONValue, events: [JSONValue]?) -> String {
        var lines: [Line] = []
        let metadata = object["metadata"] ?? .object([:])
        lines.append(Line(0, "Name:", metadata["name"]?.stringValue ?? ""))
        if let namespace = metadata["namespace"]?.stringValue {
            lines.append(Line(0, "Namespace:", namespace))
        }
        appendMap(label: "Labels:", metadata["labels"]?.objectValue, separator: "=", to: &lines)
        appendMap(label: "Annotations:", metadata["annotations"]?.objectValue, separator: ": ", to: &lines)
        lines.append(Line(0, "API Version:", object["apiVersion"]?.stringValue ?? ""))
        lines.append(Line(0, "Kind:", object["kind"]?.stringValue ?? ""))

        var rest = object.objectValue ?? [:]
        rest["apiVersion"] = nil
        rest["kind"] = nil
        if var meta = metadata.objectValue {
            for key in ["name", "namespace", "labels", "annotations", "managedFields"] { meta[key] = nil }
            rest["metadata"] = meta.isEmpty ? nil : .object(meta)
        }
        appendFields(rest, level: 0, to: &lines)

        var text = DescribePrinter.align(lines + [Line(0, "Events:", (events ?? []).isEmpty ? "<none>" : nil)])
        if let events, !events.isEmpty {
            text += renderEvents(events)
        }
        return text
    }

    /// The events table under `Events:`.
    public func renderEvents(_ events: [JSONValue]) -> String {
        let sorted = events.sorted { DescribePrinter.lastSeen($0) < DescribePrinter.lastSeen($1) }
        var rows: [[String]] = [["Type", "Reason", "Age", "From", "Message"], ["----", "------", "----", "----", "-------"]]
        for event in sorted {
            rows.append([
                event["type"]?.stringValue ?? "",
                event["reason"]?.stringValue ?? "",
                age(of: event),
                source(of: event),
                (event["message"]?.stringValue ?? event["note"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            ])
        }
        var widths = [Int](repeating: 0, count: 5)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = "  "
            for (index, cell) in row.enumerated() {
                line += index < row.count - 1 ? cell + String(repeating: " ", count: widths[index] - cell.count + 2) : cell
            }
            out += line + "\n"
        }
        return out
    }

    // MARK: - Fields

    struct Line {
        var indent: Int
        var key: String
        var value: String?

        init(_ indent: Int, _ key: String, _ value: String?) {
            self.indent = indent
            self.key = key
            self.value = value
        }
    }

    private func appendMap(label: String, _ map: [String: JSONValue]?, separator: String, to lines: inout [Line]) {
        guard let map, !map.isEmpty else {
            lines.append(Line(0, label, "<none>"))
            return
        }
        for (index, key) in map.keys.sorted().enumerated() {
            let value = map[key].map(scalarText) ?? ""
            lines.append(Line(0, index == 0 ? label : "", "\(key)\(separator)\(value)"))
        }
    }

    private func appendFields(_ fields: [String: JSONValue], level: Int, to lines: inout [Line]) {
        for key in fields.keys.sorted() {
            guard let value = fields[key] else { continue }
            let label = DescribePrinter.label(for: key) + ":"
            switch value {
            case .object(let child):
                lines.append(Line(level, label, nil))
                appendFields(child, level: level + 1, to: &lines)
            case .array(let items):
                lines.append(Line(level, label, items.isEmpty ? "" : nil))
                appendItems(items, level: level + 1, to: &lines)
            default:
                lines.append(Line(level, label, scalarText(value)))
            }
        }
    }

    private func appendItems(_ items: [JSONValue], level: Int, to lines: inout [Line]) {
        for item in items {
            switch item {
            case .object(let fields):
                appendFields(fields, level: level, to: &lines)
            case .array(let inner):
                appendItems(inner, level: level + 1, to: &lines)
            default:
                lines.append(Line(level, scalarText(item), nil))
            }
        }
    }

    private func scalarText(_ value: JSONValue) -> String {
        switch value {
        case .null: "<nil>"
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        default: value.serialized()
        }
    }

    /// Consecutive lines with values align their values two spaces after the longest key.
    static func align(_ lines: [Line]) -> String {
        var out = ""
        var index = 0
        while index < lines.count {
            guard lines[index].value != nil else {
                out += String(repeating: "  ", count: lines[index].indent) + lines[index].key + "\n"
                index += 1
                continue
            }
            var end = index
            var width = 0
            while end < lines.count, lines[end].value != nil {
                width = max(width, lines[end].indent * 2 + lines[end].key.count)
                end += 1
            }
            for line in lines[index..<end] {
                let key = String(repeating: "  ", count: line.indent) + line.key
                let value = line.value ?? ""
                out += value.isEmpty ? key + "\n" : key + String(repeating: " ", count: width - key.count + 2) + value + "\n"
            }
            index = end
        }
        return out
    }

    /// `resourceVersion` → `Resource Version`, `apiVersion` → `API Version`, `uid` → `UID`.
    public static func label(for field: String) -> String {
        var words: [String] = []
        var current = ""
        let chars = Array(field)
        for (i, c) in chars.enumerated() {
            let startsWord = c.isUppercase && !current.isEmpty
                && (!(chars[i - 1].isUppercase) || (i + 1 < chars.count && chars[i + 1].isLowercase))
            if c == "_" || c == "-" {
                if !current.isEmpty { words.append(current) }
                current = ""
                continue
            }
            if startsWord {
                words.append(current)
                current = ""
            }
            current.append(c)
        }
        if !current.isEmpty { words.append(current) }
        return words.map { word in
            let upper = word.uppercased()
            if acronyms.contains(upper) { return upper }
            return word.prefix(1).uppercased() + word.dropFirst()
        }.joined(separator: " ")
    }

    private static let acronyms: Set<String> = [
        "API", "ASN", "CPU", "CSS", "DNS", "EOF", "GUID", "HTML", "HTTP", "HTTPS", "ID", "IP", "JSON", "LHS", "QPS",
        "RAM", "RHS", "RPC", "SLA", "SMTP", "SQL", "SSH", "TCP", "TLS", "TTL", "UDP", "UI", "UID", "UUID", "URI", "URL",
        "UTF8", "VM", "XML", "XMPP", "XSRF", "XSS",
    ]

    // MARK: - Events

    private static func timestamp(of event: JSONValue, _ field: String) -> Double? {
        event[field]?.stringValue.flatMap(HumanDuration.parseRFC3339)
    }

    static func lastSeen(_ event: JSONValue) -> Double {
        timestamp(of: event, "lastTimestamp") ?? timestamp(of: event, "eventTime")
            ?? timestamp(of: event, "firstTimestamp")
            ?? event[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(HumanDuration.parseRFC3339) ?? 0
    }

    private func age(of event: JSONValue) -> String {
        let nowSeconds = now.timeIntervalSince1970
        func since(_ t: Double) -> String { HumanDuration.format(seconds: Int64((nowSeconds - t).rounded(.down))) }
        let last = DescribePrinter.lastSeen(event)
        let count = event["count"]?.intValue ?? event[path: ["series", "count"]]?.intValue ?? 1
        if count > 1, let first = DescribePrinter.timestamp(of: event, "firstTimestamp") ?? DescribePrinter.timestamp(of: event, "eventTime") {
            return "\(since(last)) (x\(count) over \(since(first)))"
        }
        return last == 0 ? "<unknown>" : since(last)
    }

    private func source(of event: JSONValue) -> String {
        let component = event[path: ["source", "component"]]?.stringValue ?? ""
        let host = event[path: ["source", "host"]]?.stringValue ?? ""
        if !component.isEmpty { return host.isEmpty ? component : "\(component), \(host)" }
        return event["reportingController"]?.stringValue ?? event["reportingComponent"]?.stringValue ?? ""
    }
}
