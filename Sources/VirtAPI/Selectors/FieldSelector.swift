import VirtError

/// A Kubernetes field selector, e.g. `metadata.name=my-vm,status.phase!=Running`: a conjunction of
/// equality tests on fields of an object, named by dotted path.
///
/// Only fields a resource declares as selectable may be used (every resource supports `metadata.name`
/// and `metadata.namespace`). A store can use `exactValue(for:)` to narrow a query before filtering
/// with `matches(_:)`.
public struct FieldSelector: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// One test on one field.
    public struct Requirement: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// How a requirement compares a field.
        public enum Operator: String, Sendable, Hashable {
            /// `field=value` or `field==value`.
            case equals = "="
            /// `field!=value`.
            case notEquals = "!="
        }

        /// The dotted field path, e.g. `status.phase`.
        public var field: String {
            didSet { components = Self.components(of: field) }
        }
        /// `field` split at its dots, once: a watch tests every event against the selector.
        private var components: [String]
        /// Whether the field must equal `value` or differ from it.
        public var `operator`: Operator
        /// The value, unescaped.
        public var value: String

        /// Creates a requirement; `field` is not checked against any resource's selectable fields.
        public init(field: String, operator: Operator, value: String) {
            self.field = field
            self.components = Self.components(of: field)
            self.operator = `operator`
            self.value = value
        }

        static func components(of field: String) -> [String] {
            field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        }

        /// Whether `object`'s field satisfies the test. A missing field reads as `""`.
        public func matches(_ object: JSONValue) -> Bool {
            let actual = FieldSelector.fieldValue(components, in: object)
            switch `operator` {
            case .equals: return actual == value
            case .notEquals: return actual != value
            }
        }

        /// The requirement in selector syntax, with `\`, `,` and `=` in the value escaped.
        public var description: String {
            field + `operator`.rawValue + FieldSelector.escape(value)
        }
    }

    /// The fields every resource supports, as in Kubernetes.
    public static let defaultSupportedFields: Set<String> = ["metadata.name", "metadata.namespace"]

    /// The requirements in the order given; all must hold.
    public private(set) var requirements: [Requirement]

    /// A selector from requirements; an empty list matches everything.
    public init(requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// Parses the `fieldSelector` query parameter: comma-separated `field=value`, `field==value` or
    /// `field!=value` terms. In values, `\,`, `\=` and `\\` stand for `,`, `=` and `\`; any other
    /// backslash sequence, or an unescaped `,` or `=`, is an error. An empty string matches everything.
    ///
    /// - Throws: `VirtError(.badRequest)`: `field label not supported: X` for a field outside
    ///   `supportedFields`, or a message naming the term that could not be read.
    public init(parsing text: String, supportedFields: Set<String>) throws(VirtError) {
        var requirements: [Requirement] = []
        for term in FieldSelector.splitTerms(text) where !term.isEmpty {
            guard let (field, op, rawValue) = FieldSelector.splitTerm(term) else {
                throw VirtError(.badRequest, "invalid selector: '\(text)'; can't understand '\(term)'")
            }
            let value = try FieldSelector.unescape(rawValue)
            let name = FieldSelector.trimmingWhitespace(field)
            guard supportedFields.contains(name) else {
                throw VirtError(.badRequest, "field label not supported: \(name)")
            }
            requirements.append(Requirement(field: name, operator: op, value: value))
        }
        self.init(requirements: requirements)
    }

    /// Whether the selector has no requirements (and so matches every object).
    public var isEmpty: Bool { requirements.isEmpty }

    /// Whether `object` satisfies every requirement.
    public func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { $0.matches(object) }
    }

    /// The value `field` must equal, if the selector has an equality requirement on it; e.g.
    /// `exactValue(for: "metadata.name")` is `"x"` for `metadata.name=x`. With several equality
    /// requirements on one field, the first (any object must match them all anyway).
    public func exactValue(for field: String) -> String? {
        requirements.first { $0.field == field && $0.operator == .equals }?.value
    }

    /// The selector in query-string syntax, values escaped.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    /// The field at a path (a dotted path split at its dots) as a string: strings as they are, numbers and booleans in JSON form,
    /// a missing field or `null` as `""`.
    static func fieldValue(_ components: [String], in object: JSONValue) -> String {
        var current = object
        for component in components {
            guard let member = current[component] else { return "" }
            current = member
        }
        switch current {
        case .null: return ""
        case .string(let string): return string
        default: return current.serialized()
        }
    }

    // MARK: - Syntax

    /// Splits on commas that are not escaped with a backslash.
    private static func splitTerms(_ text: String) -> [Substring] {
        guard !text.isEmpty else { return [] }
        var terms: [Substring] = []
        var start = text.startIndex
        var escaped = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                terms.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        terms.append(text[start...])
        return terms
    }

    /// Splits a term at its first operator, trying `!=`, then `==`, then `=` at each position.
    private static func splitTerm(_ term: Substring) -> (Substring, Requirement.Operator, Substring)? {
        var index = term.startIndex
        while index < term.endIndex {
            let rest = term[index...]
            if rest.hasPrefix("!=") {
                return (term[..<index], .notEquals, rest.dropFirst(2))
            }
            if rest.hasPrefix("==") {
                return (term[..<index], .equals, rest.dropFirst(2))
            }
            if rest.hasPrefix("=") {
                return (term[..<index], .equals, rest.dropFirst(1))
            }
            index = term.index(after: index)
        }
        return nil
    }

    private static func unescape(_ raw: Substring) throws(VirtError) -> String {
        var value = ""
        var escaping = false
        for character in raw {
            if escaping {
                guard character == "\\" || character == "," || character == "=" else {
                    throw VirtError(.badRequest, "invalid field selector: invalid escape sequence: \\\(character)")
                }
                value.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "," || character == "=" {
                throw VirtError(.badRequest, "invalid field selector: unescaped character in value: \(character)")
            } else {
                value.append(character)
            }
        }
        if escaping { throw VirtError(.badRequest, "invalid field selector: invalid escape sequence: \\") }
        return value
    }

    private static func trimmingWhitespace(_ text: Substring) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "\\" || character == "," || character == "=" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
