import VirtAPI
import VirtError
import Yams

/// YAML the way Kubernetes tools read and write it.
///
/// Reading follows `sigs.k8s.io/yaml` (YAML 1.1 scalars: `yes`/`on` are booleans, `0644` is octal, timestamps stay
/// strings); every document of a stream becomes one `JSONValue`. Writing produces block-style YAML with sorted
/// keys, list items at their parent's indentation and strings quoted whenever they would read back as something
/// else, like `kubectl get -o yaml`.
public enum KubeYAML {
    /// Parses every document of a YAML stream (JSON is YAML too). Empty documents are skipped.
    ///
    /// - Throws: `VirtError.badRequest` naming the line and column of a syntax error.
    public static func documents(_ text: String) throws(VirtError) -> [JSONValue] {
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\u{FEFF}" }
        if trimmed.first == "{" || trimmed.first == "[", let json = try? JSONValue.parse(String(trimmed)) {
            return [json]
        }
        do {
            var documents: [JSONValue] = []
            // YamlSequence stops at the first error and keeps it in `error` instead of throwing.
            var nodes = try Yams.compose_all(yaml: text, resolver)
            while let node = nodes.next() {
                let value = try convert(node)
                if value != .null { documents.append(value) }
            }
            if let error = nodes.error { throw error }
            return documents
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError(.badRequest, "error parsing YAML: \(String(describing: error).trimmingTrailingNewlines())")
        }
    }

    /// Parses a stream that must hold at most one document (`.null` when it holds none).
    public static func document(_ text: String) throws(VirtError) -> JSONValue {
        let all = try documents(text)
        guard all.count <= 1 else {
            throw VirtError(.badRequest, "expected one YAML document, found \(all.count)")
        }
        return all.first ?? .null
    }

    /// Renders a value as block-style YAML ending in a newline.
    public static func render(_ value: JSONValue) -> String {
        var out = ""
        switch value {
        case .object(let o) where !o.isEmpty: writeMapping(o, indent: 0, to: &out)
        case .array(let a) where !a.isEmpty: writeSequence(a, indent: 0, to: &out)
        default: out = inline(value) + "\n"
        }
        return out
    }

    // MARK: - Reading

    /// Yams' YAML 1.1 resolver without sexagesimal numbers, timestamps and `=`, which Kubernetes does not use.
    private static let resolver: Yams.Resolver = {
        let int = #"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"#
        let float = #"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#
        let base = Yams.Resolver.default.removing(.timestamp).removing(.value)
        return (try? base.replacing(.int, with: int).replacing(.float, with: float)) ?? base
    }()

    private static func convert(_ node: Yams.Node) throws(VirtError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return scalarValue(scalar.string, tag: tagName(node))
        case .sequence(let sequence):
            var items: [JSONValue] = []
            items.reserveCapacity(sequence.count)
            for child in sequence { items.append(try convert(child)) }
            return .array(items)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            var merged: [String: JSONValue] = [:]
            for (key, value) in mapping {
                if tagName(key) == .merge {
                    // `<<: *anchor` or `<<: [*a, *b]`: earlier sources win, explicit keys win over all.
                    let sources: [Yams.Node] = value.sequence.map { Array($0) } ?? [value]
                    for source in sources {
                        guard case .object(let fields) = try convert(source) else {
                            throw VirtError(.badRequest, "error parsing YAML: a merge key (<<) must refer to a mapping")
                        }
                        for (k, v) in fields where merged[k] == nil { merged[k] = v }
                    }
                    continue
                }
                guard case .scalar(let keyScalar) = key else {
                    throw VirtError(.badRequest, "error parsing YAML: mapping keys must be strings\(location(key))")
                }
                let name: String
                switch scalarValue(keyScalar.string, tag: tagName(key)) {
                case .string(let s): name = s
                case .null: name = "null"
                case let other: name = other.serialized()
                }
                if object[name] != nil {
                    throw VirtError(.badRequest, "error parsing YAML: duplicate key \"\(name)\"\(location(key))")
                }
                object[name] = try convert(value)
            }
            for (k, v) in merged where object[k] == nil { object[k] = v }
            return .object(object)
        case .alias:
            // Yams resolves aliases while composing; a bare alias node only appears for undefined anchors.
            throw VirtError(.badRequest, "error parsing YAML: unresolved alias\(location(node))")
        }
    }

    private static func tagName(_ node: Yams.Node) -> Yams.Tag.Name {
        Yams.Tag.Name(rawValue: node.tag.rawValue)
    }

    private static func location(_ node: Yams.Node) -> String {
        guard let mark = node.mark else { return "" }
        return " at line \(mark.line), column \(mark.column)"
    }

    private static func scalarValue(_ text: String, tag: Yams.Tag.Name) -> JSONValue {
        switch tag {
        case .null:
            return .null
        case .bool:
            switch text.lowercased() {
            case "yes", "true", "on": return .bool(true)
            default: return .bool(false)
            }
        case .int:
            if let i = parseInteger(text) { return .int(i) }
            if let d = Double(text.replacingAll("_", with: "")) { return .double(d) }
            return .string(text)
        case .float:
            if let d = Double(text.replacingAll("_", with: "")), d.isFinite { return .double(d) }
            return .string(text)
        default:
            return .string(text)
        }
    }

    /// YAML 1.1 integers: decimal, `0x` hex, `0b` binary, `0o` or leading-zero octal, `_` separators.
    static func parseInteger(_ text: String) -> Int64? {
        var digits = Substring(text.replacingAll("_", with: ""))
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        var radix = 10
        if digits.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0b") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    // MARK: - Writing

    private static func writeMapping(_ object: [String: JSONValue], indent: Int, firstLineIndented: Bool = true, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (index, key) in object.keys.sorted().enumerated() {
            if index > 0 || firstLineIndented { out += pad }
            out += quoteIfNeeded(key) + ":"
            writeValue(object[key] ?? .null, indent: indent, to: &out)
        }
    }

    /// Writes what follows `key:`: a nested block on the next lines or a scalar on the same line.
    private static func writeValue(_ value: JSONValue, indent: Int, to out: inout String) {
        switch value {
        case .object(let o) where !o.isEmpty:
            out += "\n"
            writeMapping(o, indent: indent + 2, to: &out)
        case .array(let a) where !a.isEmpty:
            out += "\n"
            writeSequence(a, indent: indent, to: &out)
        case .string(let s) where isBlockLiteralCandidate(s):
            writeBlockLiteral(s, indent: indent + 2, to: &out)
        default:
            out += " " + inline(value) + "\n"
        }
    }

    private static func writeSequence(_ array: [JSONValue], indent: Int, firstLineIndented: Bool = true, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (index, item) in array.enumerated() {
            if index > 0 || firstLineIndented { out += pad }
            out += "-"
            switch item {
            case .object(let o) where !o.isEmpty:
                out += " "
                writeMapping(o, indent: indent + 2, firstLineIndented: false, to: &out)
            case .array(let a) where !a.isEmpty:
                out += " "
                writeSequence(a, indent: indent + 2, firstLineIndented: false, to: &out)
            case .string(let s) where isBlockLiteralCandidate(s):
                writeBlockLiteral(s, indent: indent + 2, to: &out)
            default:
                out += " " + inline(item) + "\n"
            }
        }
    }

    private static func isBlockLiteralCandidate(_ s: String) -> Bool {
        guard s.contains("\n") else { return false }
        for line in s.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.last == " " || line.last == "\t" { return false }
        }
        if s.first == " " || s.first == "\n" { return false }
        return !s.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F }
    }

    private static func writeBlockLiteral(_ s: String, indent: Int, to out: inout String) {
        var lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        let chomp: String
        if s.hasSuffix("\n\n") {
            chomp = "+"
            lines.removeLast()
        } else if s.hasSuffix("\n") {
            chomp = ""
            lines.removeLast()
        } else {
            chomp = "-"
        }
        out += " |" + chomp + "\n"
        let pad = String(repeating: " ", count: indent)
        for line in lines { out += line.isEmpty ? "\n" : pad + line + "\n" }
    }

    private static func inline(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .object: return "{}"
        case .array: return "[]"
        case .string(let s): return quoteIfNeeded(s)
        default: return value.serialized()
        }
    }

    /// The string itself when it reads back as the same string, else a double-quoted JSON string.
    static func quoteIfNeeded(_ s: String) -> String {
        needsQuotes(s) ? JSONValue.string(s).serialized() : s
    }

    private static func needsQuotes(_ s: String) -> Bool {
        guard let first = s.first, let last = s.last else { return true }
        if " \t".contains(last) || " \t".contains(first) { return true }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            // `-foo` and `:foo` are plain scalars in YAML, but quoting them is always safe and clearer.
            return true
        }
        if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") { return true }
        if s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{FEFF}" }) { return true }
        // Anything a YAML 1.1 reader would resolve to another type (or a timestamp) must stay a string.
        let tag = resolver.resolveTag(of: Yams.Node(s))
        if tag != .str { return true }
        return Yams.Resolver.default.resolveTag(of: Yams.Node(s)) != .str
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }

    fileprivate func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" { s = s.dropLast() }
        return String(s)
    }
}
