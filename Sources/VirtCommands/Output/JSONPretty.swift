import VirtAPI

/// Indented JSON with sorted keys, as `kubectl get -o json` prints it (4 spaces per level).
public enum JSONPretty {
    /// Renders `value` followed by a newline.
    public static func render(_ value: JSONValue, indentWidth: Int = 4) -> String {
        var out = ""
        write(value, level: 0, indentWidth: indentWidth, to: &out)
        out += "\n"
        return out
    }

    private static func write(_ value: JSONValue, level: Int, indentWidth: Int, to out: inout String) {
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            let pad = String(repeating: " ", count: (level + 1) * indentWidth)
            for (index, item) in items.enumerated() {
                out += pad
                write(item, level: level + 1, indentWidth: indentWidth, to: &out)
                out += index + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: level * indentWidth) + "]"
        case .object(let fields) where !fields.isEmpty:
            out += "{\n"
            let pad = String(repeating: " ", count: (level + 1) * indentWidth)
            let keys = fields.keys.sorted()
            for (index, key) in keys.enumerated() {
                out += pad + JSONValue.string(key).serialized() + ": "
                write(fields[key] ?? .null, level: level + 1, indentWidth: indentWidth, to: &out)
                out += index + 1 < keys.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: level * indentWidth) + "}"
        default:
            out += value.serialized()
        }
    }
}
