import VirtError

/// A Kubernetes label selector: a conjunction of requirements on an object's labels.
///
/// It comes either as the `labelSelector` query string (`app=web,tier in (fe,be),!canary`) or as a
/// structured `metav1.LabelSelector` (`matchLabels` + `matchExpressions`) inside an object. An empty
/// selector matches every object.
public struct LabelSelector: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// One condition on one label.
    public struct Requirement: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// How a requirement compares a label.
        public enum Operator: String, Sendable, Hashable, CaseIterable {
            /// `key=value` or `key==value`: the label exists and has this value.
            case equals = "="
            /// `key!=value`: the label is absent or has another value.
            case notEquals = "!="
            /// `key in (a,b)`: the label exists and has one of the values.
            case `in` = "in"
            /// `key notin (a,b)`: the label is absent or has none of the values.
            case notIn = "notin"
            /// `key`: the label exists, whatever its value.
            case exists = "exists"
            /// `!key`: the label is absent.
            case doesNotExist = "!"
            /// `key>5`: the label exists and is an integer greater than the value.
            case greaterThan = ">"
            /// `key<5`: the label exists and is an integer less than the value.
            case lessThan = "<"
        }

        /// The label key, e.g. `app` or `kubevirt.io/domain`.
        public var key: String
        /// How the label is compared with `values`.
        public var `operator`: Operator
        /// The values, sorted and without duplicates: one for `=`, `!=`, `>`, `<`; at least one for
        /// `in`/`notin`; none for exists/does-not-exist.
        public var values: [String]

        /// Creates a requirement, checking the key, the values and their number as Kubernetes does.
        ///
        /// - Throws: `VirtError(.badRequest)` naming what is wrong.
        public init(key: String, operator: Operator, values: [String] = []) throws(VirtError) {
            if let problem = NameValidation.labelKey(key) {
                throw LabelSelector.parseError("invalid label key \"\(key)\": \(problem)")
            }
            switch `operator` {
            case .in, .notIn:
                if values.isEmpty {
                    throw LabelSelector.parseError("for 'in', 'notin' operators, values set can't be empty (key \"\(key)\")")
                }
            case .equals, .notEquals:
                if values.count != 1 {
                    throw LabelSelector.parseError("exact-match compatibility requires one single value (key \"\(key)\")")
                }
            case .exists, .doesNotExist:
                if !values.isEmpty {
                    throw LabelSelector.parseError("values set must be empty for exists and does not exist (key \"\(key)\")")
                }
            case .greaterThan, .lessThan:
                if values.count != 1 {
                    throw LabelSelector.parseError("for 'Gt', 'Lt' operators, exactly one value is required (key \"\(key)\")")
                }
                if Int64(values[0]) == nil {
                    throw LabelSelector.parseError(
                        "for 'Gt', 'Lt' operators, the value must be an integer, not \"\(values[0])\" (key \"\(key)\")")
                }
            }
            for value in values {
                if let problem = NameValidation.labelValue(value) {
                    throw LabelSelector.parseError("invalid label value \"\(value)\" for key \"\(key)\": \(problem)")
                }
            }
            self.key = key
            self.operator = `operator`
            self.values = Array(Set(values)).sorted()
        }

        /// Whether a set of labels satisfies this requirement.
        public func matches(_ labels: [String: String]) -> Bool {
            switch `operator` {
            case .equals, .in:
                guard let value = labels[key] else { return false }
                return values.contains(value)
            case .notEquals, .notIn:
                guard let value = labels[key] else { return true }
                return !values.contains(value)
            case .exists:
                return labels[key] != nil
            case .doesNotExist:
                return labels[key] == nil
            case .greaterThan, .lessThan:
                guard let text = labels[key], let actual = Int64(text), let bound = values.first.flatMap({ Int64($0) }) else {
                    return false
                }
                return `operator` == .greaterThan ? actual > bound : actual < bound
            }
        }

        /// The requirement in selector syntax, e.g. `tier in (be,fe)`.
        public var description: String {
            switch `operator` {
            case .equals, .notEquals, .greaterThan, .lessThan:
                key + `operator`.rawValue + (values.first ?? "")
            case .in, .notIn:
                "\(key) \(`operator`.rawValue) (\(values.joined(separator: ",")))"
            case .exists:
                key
            case .doesNotExist:
                "!" + key
            }
        }
    }

    /// The requirements, sorted by key; all must hold.
    public private(set) var requirements: [Requirement]

    /// A selector from already-checked requirements; an empty list matches everything.
    public init(requirements: [Requirement] = []) {
        self.requirements = LabelSelector.sorted(requirements)
    }

    /// A selector requiring each label to have exactly the given value (`matchLabels`).
    ///
    /// - Throws: `VirtError(.badRequest)` if a key or value is not a valid label key or value.
    public init(matchLabels: [String: String]) throws(VirtError) {
        var requirements: [Requirement] = []
        for (key, value) in matchLabels {
            requirements.append(try Requirement(key: key, operator: .equals, values: [value]))
        }
        self.init(requirements: requirements)
    }

    /// Whether the selector has no requirements (and so matches every object).
    public var isEmpty: Bool { requirements.isEmpty }

    /// Whether `labels` satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// The selector in query-string syntax, requirements sorted by key, e.g. `app=web,!canary`.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    static func parseError(_ message: String) -> VirtError {
        VirtError(.badRequest, "unable to parse requirement: \(message)")
    }

    /// Sorts by key, keeping the given order among requirements on the same key.
    private static func sorted(_ requirements: [Requirement]) -> [Requirement] {
        requirements.enumerated()
            .sorted { $0.element.key != $1.element.key ? $0.element.key < $1.element.key : $0.offset < $1.offset }
            .map(\.element)
    }
}

// MARK: - String syntax

extension LabelSelector {
    /// Parses the `labelSelector` query parameter syntax (what `kubectl get -l` sends):
    ///
    /// ```
    /// selector    := requirement ("," requirement)*
    /// requirement := ["!"] KEY [ ("=" | "==" | "!=" | ">" | "<") VALUE | ("in" | "notin") "(" VALUES ")" ]
    /// ```
    ///
    /// `a` requires label `a` to exist and `!a` to be absent; `a=` matches an empty value. Whitespace
    /// between tokens is ignored. An empty string is the empty selector, which matches everything.
    ///
    /// - Throws: `VirtError(.badRequest, "unable to parse requirement: ...")` for a syntax error or an
    ///   invalid label key or value.
    public init(parsing text: String) throws(VirtError) {
        var parser = LabelSelectorParser(text)
        self.init(requirements: try parser.parse())
    }
}

/// A recursive-descent parser for the label selector syntax, with the lexing rules of Kubernetes'
/// `labels.Parse`: identifiers run until whitespace or one of `=!(),<>`; `in` and `notin` are keywords
/// only where an operator is expected.
private struct LabelSelectorParser {
    enum Token: Equatable {
        case identifier(String)
        case equals, doubleEquals, notEquals, bang, greaterThan, lessThan
        case openParen, closeParen, comma
        case end

        var text: String {
            switch self {
            case .identifier(let name): name
            case .equals: "="
            case .doubleEquals: "=="
            case .notEquals: "!="
            case .bang: "!"
            case .greaterThan: ">"
            case .lessThan: "<"
            case .openParen: "("
            case .closeParen: ")"
            case .comma: ","
            case .end: "end of string"
            }
        }

        /// How the token reads in "found X" messages.
        var quoted: String {
            self == .end ? "end of string" : "'\(text)'"
        }
    }

    let source: String
    let scalars: [Unicode.Scalar]
    var index = 0

    init(_ text: String) {
        source = text
        scalars = Array(text.unicodeScalars)
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
    }

    private static func isSpecial(_ scalar: Unicode.Scalar) -> Bool {
        "=!(),<>".unicodeScalars.contains(scalar)
    }

    /// Reads the next token without consuming it.
    func peek() -> Token {
        var copy = self
        return copy.next()
    }

    /// Reads and consumes the next token.
    mutating func next() -> Token {
        while index < scalars.count, Self.isWhitespace(scalars[index]) { index += 1 }
        guard index < scalars.count else { return .end }
        let scalar = scalars[index]
        index += 1
        let following: Unicode.Scalar? = index < scalars.count ? scalars[index] : nil
        switch scalar {
        case "=":
            if following == "=" {
                index += 1
                return .doubleEquals
            }
            return .equals
        case "!":
            if following == "=" {
                index += 1
                return .notEquals
            }
            return .bang
        case "(": return .openParen
        case ")": return .closeParen
        case ",": return .comma
        case ">": return .greaterThan
        case "<": return .lessThan
        default:
            var identifier = String.UnicodeScalarView()
            identifier.append(scalar)
            while index < scalars.count, !Self.isWhitespace(scalars[index]), !Self.isSpecial(scalars[index]) {
                identifier.append(scalars[index])
                index += 1
            }
            return .identifier(String(identifier))
        }
    }

    func unexpected(_ token: Token, expected: String) -> VirtError {
        LabelSelector.parseError("found \(token.quoted), expected: \(expected) (in \"\(source)\")")
    }

    mutating func parse() throws(VirtError) -> [LabelSelector.Requirement] {
        var requirements: [LabelSelector.Requirement] = []
        if peek() == .end { return requirements }
        while true {
            requirements.append(try parseRequirement())
            let token = next()
            switch token {
            case .end:
                return requirements
            case .comma:
                let following = peek()
                switch following {
                case .bang:
                    continue
                case .identifier(let key) where key != "in" && key != "notin":
                    continue
                default:
                    throw unexpected(following, expected: "a label key after ','")
                }
            default:
                throw unexpected(token, expected: "',' or end of string")
            }
        }
    }

    mutating func parseRequirement() throws(VirtError) -> LabelSelector.Requirement {
        var token = next()
        let negated = token == .bang
        if negated { token = next() }
        guard case .identifier(let key) = token, key != "in", key != "notin" else {
            throw unexpected(token, expected: "a label key")
        }
        let following = peek()
        if negated || following == .end || following == .comma {
            return try LabelSelector.Requirement(key: key, operator: negated ? .doesNotExist : .exists)
        }
        let operatorToken = next()
        switch operatorToken {
        case .equals, .doubleEquals:
            return try LabelSelector.Requirement(key: key, operator: .equals, values: [try parseExactValue()])
        case .notEquals:
            return try LabelSelector.Requirement(key: key, operator: .notEquals, values: [try parseExactValue()])
        case .greaterThan:
            return try LabelSelector.Requirement(key: key, operator: .greaterThan, values: [try parseExactValue()])
        case .lessThan:
            return try LabelSelector.Requirement(key: key, operator: .lessThan, values: [try parseExactValue()])
        case .identifier("in"):
            return try LabelSelector.Requirement(key: key, operator: .in, values: try parseValueSet())
        case .identifier("notin"):
            return try LabelSelector.Requirement(key: key, operator: .notIn, values: try parseValueSet())
        default:
            throw unexpected(operatorToken, expected: "'=', '==', '!=', '>', '<', 'in', 'notin', ',' or end of string after key '\(key)'")
        }
    }

    /// The value after `=`, `==`, `!=`, `>` or `<`; empty when the requirement ends right there.
    mutating func parseExactValue() throws(VirtError) -> String {
        let following = peek()
        if following == .end || following == .comma { return "" }
        let token = next()
        guard case .identifier(let value) = token else { throw unexpected(token, expected: "a label value") }
        return value
    }

    /// `( v1, v2, ... )`. As in Kubernetes, an empty entry (`()`, `(a,)`) stands for the empty value.
    mutating func parseValueSet() throws(VirtError) -> [String] {
        let open = next()
        guard open == .openParen else { throw unexpected(open, expected: "'('") }
        var values: [String] = []
        var current: String?
        while true {
            let token = next()
            switch token {
            case .identifier(let value):
                guard current == nil else { throw unexpected(token, expected: "',' or ')'") }
                current = value
            case .comma:
                values.append(current ?? "")
                current = nil
            case .closeParen:
                values.append(current ?? "")
                return values
            default:
                throw unexpected(token, expected: current == nil ? "a label value, ',' or ')'" : "',' or ')'")
            }
        }
    }
}

// MARK: - Structured form

extension LabelSelector {
    /// Reads a structured `metav1.LabelSelector`:
    ///
    /// ```json
    /// {"matchLabels": {"app": "web"},
    ///  "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]}
    /// ```
    ///
    /// Operators are `In`, `NotIn`, `Exists` and `DoesNotExist`. `{}` and `null` give the empty selector,
    /// which matches everything; a caller for whom a missing selector means "nothing" must check for that
    /// itself (Kubernetes' `LabelSelectorAsSelector(nil)` is `Nothing()`).
    ///
    /// - Throws: `VirtError(.invalid)` with a cause whose field is relative to the selector, e.g.
    ///   `matchExpressions[0].operator`; callers prefix it with the selector's own path.
    public init(json: JSONValue) throws(VirtError) {
        if json == .null {
            self.init()
            return
        }
        guard case .object(let members) = json else {
            throw LabelSelector.invalid(field: "", "must be an object, not \(json.typeName)")
        }
        var requirements: [Requirement] = []
        if let matchLabels = members["matchLabels"], matchLabels != .null {
            guard case .object(let labels) = matchLabels else {
                throw LabelSelector.invalid(field: "matchLabels", "must be an object of strings, not \(matchLabels.typeName)")
            }
            for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
                let field = "matchLabels[\(key)]"
                guard case .string(let text) = value else {
                    throw LabelSelector.invalid(field: field, "must be a string, not \(value.typeName)")
                }
                requirements.append(try LabelSelector.checked(field: field) { () throws(VirtError) in
                    try Requirement(key: key, operator: .equals, values: [text])
                })
            }
        }
        if let matchExpressions = members["matchExpressions"], matchExpressions != .null {
            guard case .array(let expressions) = matchExpressions else {
                throw LabelSelector.invalid(field: "matchExpressions", "must be an array, not \(matchExpressions.typeName)")
            }
            for (index, expression) in expressions.enumerated() {
                requirements.append(try LabelSelector.requirement(json: expression, field: "matchExpressions[\(index)]"))
            }
        }
        self.init(requirements: requirements)
    }

    private static func requirement(json: JSONValue, field: String) throws(VirtError) -> Requirement {
        guard case .object(let members) = json else {
            throw invalid(field: field, "must be an object, not \(json.typeName)")
        }
        guard case .string(let key)? = members["key"] else {
            throw invalid(field: field + ".key", "a label key is required", reason: "FieldValueRequired")
        }
        guard case .string(let operatorName)? = members["operator"] else {
            throw invalid(field: field + ".operator", "an operator is required", reason: "FieldValueRequired")
        }
        let op: Requirement.Operator
        switch operatorName {
        case "In": op = .in
        case "NotIn": op = .notIn
        case "Exists": op = .exists
        case "DoesNotExist": op = .doesNotExist
        default:
            throw invalid(
                field: field + ".operator",
                "Unsupported value: \"\(operatorName)\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
                reason: "FieldValueNotSupported")
        }
        var values: [String] = []
        if let valuesJSON = members["values"], valuesJSON != .null {
            guard case .array(let elements) = valuesJSON else {
                throw invalid(field: field + ".values", "must be an array of strings, not \(valuesJSON.typeName)")
            }
            for (index, element) in elements.enumerated() {
                guard case .string(let value) = element else {
                    throw invalid(field: field + ".values[\(index)]", "must be a string, not \(element.typeName)")
                }
                values.append(value)
            }
        }
        return try checked(field: field) { () throws(VirtError) in
            try Requirement(key: key, operator: op, values: values)
        }
    }

    /// Runs a requirement initializer, turning its bad-request error into an invalid-field error.
    private static func checked(field: String, _ make: () throws(VirtError) -> Requirement) throws(VirtError) -> Requirement {
        do {
            return try make()
        } catch {
            let prefix = "unable to parse requirement: "
            let message = error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
            throw invalid(field: field, message)
        }
    }

    private static func invalid(field: String, _ message: String, reason: String = "FieldValueInvalid") -> VirtError {
        let text = field.isEmpty ? "label selector: \(message)" : "label selector \(field): \(message)"
        return VirtError(.invalid, text, causes: [VirtError.Cause(reason: reason, message: message, field: field)])
    }
}
