import Foundation
import VirtAPI
import VirtError

/// The part of kubectl's JSONPath templates scripts use: `{.a.b}`, `{.items[0]}`, `{.items[*].metadata.name}`,
/// `{['key.with.dots']}`, `{.conditions[?(@.type=="Ready")].status}`, `{range .items[*]}…{end}` and string
/// literals such as `{"\n"}`. Strings print raw, other values as compact JSON; several results are joined
/// with spaces.
public struct JSONPathTemplate: Sendable {
    indirect enum Segment: Sendable {
        case text(String)
        case path([Step])
        case range([Step], [Segment])
    }

    enum Step: Sendable {
        case field(String)
        case index(Int)
        case wildcard
        case recursive(String)
        case filter(path: [Step], op: String, literal: JSONValue)
    }

    private let segments: [Segment]

    /// Parses a template such as `{.metadata.name}`.
    public init(_ template: String) throws(VirtError) {
        var parser = Parser(text: Array(template))
        segments = try parser.parseSegments(untilEnd: false)
    }

    /// Renders the template against `value`.
    public func render(_ value: JSONValue) throws(VirtError) -> String {
        var out = ""
        try render(segments, value, into: &out)
        return out
    }

    private func render(_ segments: [Segment], _ value: JSONValue, into out: inout String) throws(VirtError) {
        for segment in segments {
            switch segment {
            case .text(let text):
                out += text
            case .path(let steps):
                let results = JSONPathTemplate.evaluate(steps, on: [value])
                out += results.map(JSONPathTemplate.text(of:)).joined(separator: " ")
            case .range(let steps, let body):
                for item in JSONPathTemplate.evaluate(steps, on: [value]) {
                    try render(body, item, into: &out)
                }
            }
        }
    }

    private static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        default: value.serialized()
        }
    }

    static func evaluate(_ steps: [Step], on values: [JSONValue]) -> [JSONValue] {
        var current = values
        for step in steps {
            var next: [JSONValue] = []
            for value in current {
                switch step {
                case .field(let name):
                    if let child = value[name] { next.append(child) }
                case .index(let index):
                    if let items = value.arrayValue {
                        let resolved = index < 0 ? items.count + index : index
                        if items.indices.contains(resolved) { next.append(items[resolved]) }
                    }
                case .wildcard:
                    if let items = value.arrayValue {
                        next += items
                    } else if let fields = value.objectValue {
                        next += fields.keys.sorted().compactMap { fields[$0] }
                    }
                case .recursive(let name):
                    collect(name, in: value, into: &next)
                case .filter(let path, let op, let literal):
                    for item in value.arrayValue ?? [] {
                        let found = evaluate(path, on: [item])
                        let matches: Bool
                        switch op {
                        case "==": matches = found.contains { equal($0, literal) }
                        case "!=": matches = !found.isEmpty && !found.contains { equal($0, literal) }
                        default: matches = !found.isEmpty  // existence: [?(@.name)]
                        }
                        if matches { next.append(item) }
                    }
                }
            }
            current = next
        }
        return current
    }

    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }

    private static func collect(_ name: String, in value: JSONValue, into out: inout [JSONValue]) {
        switch value {
        case .object(let fields):
            if let match = fields[name] { out.append(match) }
            for key in fields.keys.sorted() { if let child = fields[key] { collect(name, in: child, into: &out) } }
        case .array(let items):
            for item in items { collect(name, in: item, into: &out) }
        default:
            break
        }
    }

    private struct Parser {
        let text: [Character]
        var index = 0

        func fail(_ message: String) -> VirtError {
            VirtError(.badRequest, "error parsing jsonpath \(String(text)): \(message)")
        }

        mutating func parseSegments(untilEnd: Bool) throws(VirtError) -> [Segment] {
            var segments: [Segment] = []
            var literal = ""
            while index < text.count {
                let c = text[index]
                if c != "{" {
                    literal.append(c)
                    index += 1
                    continue
                }
                if !literal.isEmpty {
                    segments.append(.text(literal))
                    literal = ""
                }
                index += 1
                let body = try readBraces()
                let trimmed = body.trimmingSpaces()
                if trimmed == "end" {
                    guard untilEnd else { throw fail("{end} without {range}") }
                    return segments
                }
                if trimmed.hasPrefix("range ") || trimmed.hasPrefix("range\t") {
                    let steps = try JSONPathTemplate.parsePath(String(trimmed.dropFirst(6)).trimmingSpaces(), fail: fail)
                    let inner = try parseSegments(untilEnd: true)
                    segments.append(.range(steps, inner))
                    continue
                }
                if let first = trimmed.first, first == "\"" || first == "'" {
                    segments.append(.text(try JSONPathTemplate.unquote(trimmed, fail: fail)))
                    continue
                }
                segments.append(.path(try JSONPathTemplate.parsePath(trimmed, fail: fail)))
            }
            if untilEnd { throw fail("{range} without {end}") }
            if !literal.isEmpty { segments.append(.text(literal)) }
            return segments
        }

        /// Reads up to the matching `}`, skipping braces inside quotes.
        mutating func readBraces() throws(VirtError) -> String {
            var body = ""
            var quote: Character?
            while index < text.count {
                let c = text[index]
                index += 1
                if let q = quote {
                    body.append(c)
                    if c == "\\", index < text.count {
                        body.append(text[index])
                        index += 1
                    } else if c == q {
                        quote = nil
                    }
                    continue
                }
                if c == "\"" || c == "'" { quote = c }
                if c == "}" { return body }
                body.append(c)
            }
            throw fail("unclosed {")
        }
    }

    static func unquote(_ quoted: String, fail: (String) -> VirtError) throws(VirtError) -> String {
        guard quoted.count >= 2, let q = quoted.first, quoted.last == q else { throw fail("unterminated string \(quoted)") }
        var out = ""
        var escaped = false
        for c in quoted.dropFirst().dropLast() {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Parses `.a.b[0]['c.d'][*][?(@.x=="y")]..name` (a leading `$` is allowed).
    static func parsePath(_ path: String, fail: (String) -> VirtError) throws(VirtError) -> [Step] {
        let chars = Array(path)
        var i = 0
        var steps: [Step] = []
        if i < chars.count, chars[i] == "$" { i += 1 }
        func readName() -> String {
            var name = ""
            while i < chars.count, chars[i] != ".", chars[i] != "[" {
                name.append(chars[i])
                i += 1
            }
            return name
        }
        while i < chars.count {
            let c = chars[i]
            if c == "." {
                i += 1
                if i < chars.count, chars[i] == "." {
                    i += 1
                    let name = readName()
                    guard !name.isEmpty else { throw fail("empty name after ..") }
                    steps.append(.recursive(name))
                    continue
                }
                let name = readName()
                if name.isEmpty { continue }  // `{.}` is the whole value
                steps.append(name == "*" ? .wildcard : .field(name))
            } else if c == "[" {
                guard let close = findClose(chars, from: i) else { throw fail("unclosed [") }
                let inner = String(chars[(i + 1)..<close]).trimmingSpaces()
                i = close + 1
                if inner == "*" {
                    steps.append(.wildcard)
                } else if let n = Int(inner) {
                    steps.append(.index(n))
                } else if let first = inner.first, first == "'" || first == "\"" {
                    steps.append(.field(try unquote(inner, fail: fail)))
                } else if inner.hasPrefix("?(") && inner.hasSuffix(")") {
                    steps.append(try parseFilter(String(inner.dropFirst(2).dropLast()), fail: fail))
                } else {
                    throw fail("unsupported subscript [\(inner)]")
                }
            } else {
                let name = readName()
                guard !name.isEmpty else { throw fail("unexpected \(c)") }
                steps.append(.field(name))
            }
        }
        return steps
    }

    private static func findClose(_ chars: [Character], from start: Int) -> Int? {
        var quote: Character?
        var depth = 0
        var i = start
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "[" || c == "(" {
                depth += 1
            } else if c == "]" || c == ")" {
                depth -= 1
                if depth == 0 && c == "]" { return i }
            }
            i += 1
        }
        return nil
    }

    private static func parseFilter(_ expression: String, fail: (String) -> VirtError) throws(VirtError) -> Step {
        for op in ["==", "!="] {
            if let range = expression.range(of: op) {
                let left = String(expression[..<range.lowerBound]).trimmingSpaces()
                let right = String(expression[range.upperBound...]).trimmingSpaces()
                guard left.hasPrefix("@") else { throw fail("a filter must compare @.field, not \(left)") }
                let literal: JSONValue
                if let first = right.first, first == "'" || first == "\"" {
                    literal = .string(try unquote(right, fail: fail))
                } else if let parsed = try? JSONValue.parse(right) {
                    literal = parsed
                } else {
                    throw fail("unsupported literal \(right)")
                }
                return .filter(path: try parsePath(String(left.dropFirst()), fail: fail), op: op, literal: literal)
            }
        }
        let trimmed = expression.trimmingSpaces()
        guard trimmed.hasPrefix("@") else { throw fail("unsupported filter \(expression)") }
        return .filter(path: try parsePath(String(trimmed.dropFirst()), fail: fail), op: "exists", literal: .null)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
