import Foundation
import VirtError
import Yams

extension JSONValue {
    /// Parses every document of a YAML (or JSON) stream; empty documents are skipped.
    public static func parseYAMLDocuments(_ text: String) throws(VirtError) -> [JSONValue] {
        do {
            var documents: [JSONValue] = []
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                let value = try JSONValue(yamlNode: node)
                if value != .null { documents.append(value) }
            }
            return documents
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError(.badRequest, "malformed YAML: \(error)")
        }
    }

    /// Parses one YAML document (a JSON text is YAML too).
    public static func parseYAML(_ text: String) throws(VirtError) -> JSONValue {
        let documents = try parseYAMLDocuments(text)
        guard documents.count <= 1 else { throw VirtError(.badRequest, "expected one YAML document, found \(documents.count)") }
        return documents.first ?? .null
    }

    init(yamlNode node: Yams.Node) throws {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if let _ = NSNull.construct(from: scalar) { self = .null; return }
                if let b = Bool.construct(from: scalar) { self = .bool(b); return }
                // A scalar with a colon stays a string, as Kubernetes reads it. Yams would read `12:30` as a
                // base-60 number, in arithmetic that traps on overflow (`1:2:3:4:5:6:7:8:9:10:11`).
                let isNumber = !scalar.string.utf8.contains(UInt8(ascii: ":"))
                if isNumber, let i = Int.construct(from: scalar) { self = .int(Int64(i)); return }
                if isNumber, let d = Double.construct(from: scalar), scalar.string.first != "." || scalar.string.count > 1 {
                    self = .double(d)
                    return
                }
            }
            self = .string(scalar.string)
        case .sequence(let sequence):
            self = .array(try sequence.map { try JSONValue(yamlNode: $0) })
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw VirtError(.badRequest, "malformed YAML: mapping keys must be strings") }
                object[name] = try JSONValue(yamlNode: value)
            }
            self = .object(object)
        case .alias:
            throw VirtError(.badRequest, "malformed YAML: aliases are not supported")
        }
    }

    /// Block-style YAML with sorted keys, as `kubectl get -o yaml` prints.
    public func yamlText() -> String {
        var out = ""
        writeYAML(to: &out, indent: 0, inList: false)
        if out.isEmpty || out.last != "\n" { out += "\n" }
        return out
    }

    private func writeYAML(to out: inout String, indent: Int, inList: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .object(let o) where !o.isEmpty:
            var first = true
            for key in o.keys.sorted() {
                let value = o[key] ?? .null
                if !(first && inList) { out += pad }
                first = false
                out += JSONValue.yamlScalarString(key) + ":"
                value.writeYAMLChild(to: &out, indent: indent, key: true)
            }
        case .array(let a) where !a.isEmpty:
            var first = true
            for value in a {
                if !(first && inList) { out += pad }
                first = false
                out += "-"
                switch value {
                case .object(let o) where !o.isEmpty:
                    out += " "
                    value.writeYAML(to: &out, indent: indent + 2, inList: true)
                case .array(let inner) where !inner.isEmpty:
                    out += " "
                    value.writeYAML(to: &out, indent: indent + 2, inList: true)
                default:
                    out += " " + value.yamlInline() + "\n"
                }
            }
        default:
            out += yamlInline() + "\n"
        }
    }

    private func writeYAMLChild(to out: inout String, indent: Int, key: Bool) {
        switch self {
        case .object(let o) where !o.isEmpty:
            out += "\n"
            writeYAML(to: &out, indent: indent + 2, inList: false)
        case .array(let a) where !a.isEmpty:
            out += "\n"
            writeYAML(to: &out, indent: indent, inList: false)
        case .string(let s) where s.contains("\n"):
            out += " |" + (s.hasSuffix("\n") ? "" : "-") + "\n"
            let pad = String(repeating: " ", count: indent + 2)
            var lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            if s.hasSuffix("\n") { lines.removeLast() }
            for line in lines { out += line.isEmpty ? "\n" : pad + line + "\n" }
        default:
            out += " " + yamlInline() + "\n"
        }
    }

    private func yamlInline() -> String {
        switch self {
        case .null: return "null"
        case .object: return "{}"
        case .array: return "[]"
        case .string(let s): return JSONValue.yamlScalarString(s)
        default: return serialized()
        }
    }

    static func yamlScalarString(_ s: String) -> String {
        if s.isEmpty { return "\"\"" }
        let reserved = ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        let needsQuote = reserved.contains(s.lowercased())
            || Double(s) != nil || Int(s) != nil
            || s.first.map { " -?:,[]{}#&*!|>'\"%@`".contains($0) } == true
            || s.last == " " || s.contains(": ") || s.contains(" #") || s.contains("\n") || s.contains("\t")
            || s.unicodeScalars.contains { $0.value < 0x20 }
        return needsQuote ? JSONValue.string(s).serialized() : s
    }
}
