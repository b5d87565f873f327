import VirtError

/// A JSON document, kept exactly as sent: objects keep every field, numbers keep their integer-ness.
///
/// The API server stores and serves objects as `JSONValue`, so fields the typed kinds do not model yet
/// survive every round trip.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let i): i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: Int64(d)
        default: nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    public var isNull: Bool { self == .null }

    /// The JSON type name, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Reads a member of an object (`nil` for anything else).
    public subscript(key: String) -> JSONValue? {
        get { objectValue?[key] }
        set {
            guard case .object(var o) = self else { return }
            self = .null  // `o` is then the only holder and changes in place
            o[key] = newValue
            self = .object(o)
        }
    }

    /// Reads a nested member by path, e.g. `value[path: ["metadata", "name"]]`.
    public subscript(path path: [String]) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for key in path { current = current?[key] }
            return current
        }
        set { setValue(newValue, at: path[...]) }
    }

    /// Sets (or with `nil` removes) the member at `path`, creating objects on the way. Each level is taken
    /// out of its parent while it changes, so no level is copied: the dictionaries stay uniquely held and
    /// change in place.
    mutating func setValue(_ newValue: JSONValue?, at path: ArraySlice<String>) {
        guard let first = path.first else {
            if let newValue { self = newValue }
            return
        }
        guard case .object(var members) = self else { return }
        self = .null
        if path.count == 1 {
            members[first] = newValue
        } else {
            var child = members.removeValue(forKey: first) ?? .object([:])
            if child.objectValue == nil { child = .object([:]) }
            child.setValue(newValue, at: path.dropFirst())
            members[first] = child
        }
        self = .object(members)
    }

    /// Changes the value at `path` in place (nothing happens when there is none). Unlike reading the value
    /// out and writing it back, this copies none of the objects on the way.
    public mutating func modify(path: [String], _ body: (inout JSONValue) -> Void) {
        modify(path: path[...], body)
    }

    private mutating func modify(path: ArraySlice<String>, _ body: (inout JSONValue) -> Void) {
        guard let first = path.first else { return body(&self) }
        guard case .object(var members) = self, members[first] != nil else { return }
        self = .null
        var child = members.removeValue(forKey: first)!
        child.modify(path: path.dropFirst(), body)
        members[first] = child
        self = .object(members)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}
