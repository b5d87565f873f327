/// A type that reads itself straight from a JSON object, field by field, instead of through `Codable`'s
/// keyed containers.
///
/// Admission decodes every object written, and through `Codable` a VirtualMachine cost about 60 µs: each
/// of the ~250 fields its types model goes through a type-erased container box and unspecialized generic
/// code, and most of them are not even there. Read this way, each field is one specialized call and a
/// missing field costs a short scan of the keys that are there.
///
/// A conforming type's `init(reading:)` is its only decoding: the `Decodable` conformance comes from it
/// (through any decoder, by way of `JSONValue`), so the field list is written once. Encoding stays
/// synthesized. Errors are the `DecodingError`s the `Codable` path throws, with full coding paths, so
/// admission renders them the same way; `JSONObjectReader.finish` reports fields nobody asked for.
public protocol JSONObjectDecodable: Decodable, JSONReadable {
    init(reading object: inout JSONObjectReader) throws
}

/// A value that can be read from a `JSONValue` at a path.
public protocol JSONReadable {
    static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> Self
}

/// Where a value sits in the document being read: its parent's path and its key or index. Only errors and
/// unknown fields spell it out.
public struct JSONReadPath: Sendable {
    let node: JSONPathNode?

    static let root = JSONReadPath(node: nil)

    func appending(_ key: String) -> JSONReadPath { JSONReadPath(node: JSONPathNode(parent: node, key: key, index: -1)) }
    func appending(index: Int) -> JSONReadPath { JSONReadPath(node: JSONPathNode(parent: node, key: "", index: index)) }

    /// The path as `Codable` coding keys (array indices as `JSONIndexKey`, rendered `[i]`).
    var codingPath: [any CodingKey] {
        var keys: [any CodingKey] = []
        var current = node
        while let step = current {
            keys.append(step.index >= 0 ? JSONIndexKey(index: step.index) as any CodingKey : JSONReadKey(step.key))
            current = step.parent
        }
        return keys.reversed()
    }
}

final class JSONPathNode: Sendable {
    let parent: JSONPathNode?
    let key: String
    let index: Int

    init(parent: JSONPathNode?, key: String, index: Int) {
        self.parent = parent
        self.key = key
        self.index = index
    }
}

/// A member name in a coding path.
struct JSONReadKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ key: String) { stringValue = key }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// What one read shares across its objects: where it started and, when unknown fields are wanted, the ones
/// found.
public final class JSONReadContext {
    let tracking: Bool
    var unknownFields: [String] = []
    /// The path of the decoder a read started from when it runs inside a `Codable` decode.
    let prefix: [any CodingKey]

    init(tracking: Bool, prefix: [any CodingKey] = []) {
        self.tracking = tracking
        self.prefix = prefix
    }

    func codingPath(_ path: JSONReadPath) -> [any CodingKey] {
        prefix.isEmpty ? path.codingPath : prefix + path.codingPath
    }
}

/// The members of one JSON object while a `JSONObjectDecodable` type reads them.
public struct JSONObjectReader {
    let object: [String: JSONValue]
    let path: JSONReadPath
    let context: JSONReadContext
    /// Members asked for, by position in `object` (objects of more than 64 members use `usedNames`).
    private var used: UInt64 = 0
    private var usedNames: Set<String> = []
    /// Bit `n % 64` is set when some member's name is `n` bytes long. Types model many more fields than an
    /// object carries, and most names asked for are missing: their length alone usually tells so.
    private let lengths: UInt64

    init(object: [String: JSONValue], path: JSONReadPath, context: JSONReadContext) {
        self.object = object
        self.path = path
        self.context = context
        var lengths: UInt64 = 0
        for name in object.keys { lengths |= 1 << UInt64(name.utf8.count & 63) }
        self.lengths = lengths
    }

    /// The member `key`, marked as asked for when it is there.
    mutating func member(_ key: String) -> JSONValue? {
        let length = key.utf8.count
        guard lengths & (1 << UInt64(length & 63)) != 0 else { return nil }
        if object.count <= 64 {
            var position = 0
            var index = object.startIndex
            while index != object.endIndex {
                let name = object.keys[index]
                if name.utf8.count == length, name == key {
                    used |= 1 << UInt64(position)
                    return object.values[index]
                }
                object.formIndex(after: &index)
                position += 1
            }
            return nil
        }
        guard let value = object[key] else { return nil }
        usedNames.insert(key)
        return value
    }

    /// The member `key`, or `nil` when it is missing or null.
    public mutating func optional<T: JSONReadable>(_ key: String) throws -> T? {
        guard let value = member(key) else { return nil }
        if case .null = value { return nil }
        return try T.read(value, at: path.appending(key), context)
    }

    /// The member `key`; a missing one is `keyNotFound` and a null one `valueNotFound`, as `Codable` has it.
    public mutating func required<T: JSONReadable>(_ key: String) throws -> T {
        guard let value = member(key) else {
            throw DecodingError.keyNotFound(JSONReadKey(key), .init(
                codingPath: context.codingPath(path), debugDescription: "No value for required key \"\(key)\"."))
        }
        return try T.read(value, at: path.appending(key), context)
    }

    /// After the type has read what it models: records every member it did not ask for.
    func finish() {
        guard context.tracking else { return }
        let usedCount = object.count <= 64 ? used.nonzeroBitCount : usedNames.count
        guard usedCount < object.count else { return }
        let prefix = JSONValueDecoder.fieldPath(context.codingPath(path))
        var position = 0
        for name in object.keys {
            let asked = object.count <= 64 ? used & (1 << UInt64(position)) != 0 : usedNames.contains(name)
            if !asked { context.unknownFields.append(prefix.isEmpty ? name : "\(prefix).\(name)") }
            position += 1
        }
    }
}

extension JSONObjectDecodable {
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> Self {
        guard case .object(let object) = value else {
            throw JSONReading.mismatch([String: JSONValue].self, value, path, context)
        }
        var reader = JSONObjectReader(object: object, path: path, context: context)
        let result = try Self(reading: &reader)
        reader.finish()
        return result
    }

    /// Decodable through any decoder: the subtree is taken as a `JSONValue` and read. Under this module's
    /// own decoder the read joins its unknown-field tracking and keeps its coding path.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? JSONValueDecoderImpl {
            let context = JSONReadContext(tracking: decoder.tracker != nil, prefix: decoder.codingPath)
            self = try Self.read(decoder.value, at: .root, context)
            decoder.tracker?.extraUnknown.append(contentsOf: context.unknownFields)
        } else {
            self = try Self.read(try JSONValue(from: decoder), at: .root, JSONReadContext(tracking: false, prefix: decoder.codingPath))
        }
    }
}

enum JSONReading {
    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: JSONReadPath, _ context: JSONReadContext) -> DecodingError {
        if case .null = value {
            return DecodingError.valueNotFound(type, .init(
                codingPath: context.codingPath(path),
                debugDescription: "Expected a value of type \(JSONValueDecoder.jsonTypeName(type)) but found null instead."))
        }
        return DecodingError.typeMismatch(type, .init(
            codingPath: context.codingPath(path),
            debugDescription: "Expected a value of type \(JSONValueDecoder.jsonTypeName(type)) but found \(value.typeName) instead."))
    }

    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ path: JSONReadPath, _ context: JSONReadContext) throws -> T {
        switch value {
        case .int(let i):
            if let v = T(exactly: i) { return v }
            throw outOfRange(T.self, negative: i < 0, path, context)
        case .double(let d):
            guard d.isFinite, d.rounded() == d else { throw mismatch(T.self, value, path, context) }
            if let v = T(exactly: d) { return v }
            throw outOfRange(T.self, negative: d < 0, path, context)
        default:
            throw mismatch(T.self, value, path, context)
        }
    }

    static func outOfRange<T: FixedWidthInteger>(_ type: T.Type, negative: Bool, _ path: JSONReadPath, _ context: JSONReadContext) -> DecodingError {
        let codingPath = context.codingPath(path)
        let field = JSONValueDecoder.fieldPath(codingPath)
        let subject = field.isEmpty ? "body" : "\(field) in body"
        let bound = negative ? "greater than or equal to \(T.min)" : "less than or equal to \(T.max)"
        return DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(subject) should be \(bound)"))
    }
}

extension String: JSONReadable {
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> String {
        guard case .string(let s) = value else { throw JSONReading.mismatch(String.self, value, path, context) }
        return s
    }
}

extension Bool: JSONReadable {
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> Bool {
        guard case .bool(let b) = value else { throw JSONReading.mismatch(Bool.self, value, path, context) }
        return b
    }
}

/// Integers read as the `Codable` decoder reads them: whole numbers only, within the type's range.
extension JSONReadable where Self: FixedWidthInteger {
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> Self {
        try JSONReading.integer(Self.self, value, path, context)
    }
}

extension Int: JSONReadable {}
extension Int32: JSONReadable {}
extension Int64: JSONReadable {}
extension UInt: JSONReadable {}
extension UInt32: JSONReadable {}
extension UInt64: JSONReadable {}

extension Double: JSONReadable {
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw JSONReading.mismatch(Double.self, value, path, context)
        }
    }
}

extension JSONValue: JSONReadable {
    /// Opaque: the subtree as sent, nothing inside it reported.
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> JSONValue {
        value
    }
}

extension Array: JSONReadable where Element: JSONReadable {
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> [Element] {
        guard case .array(let items) = value else { throw JSONReading.mismatch([JSONValue].self, value, path, context) }
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            result.append(try Element.read(item, at: path.appending(index: index), context))
        }
        return result
    }
}

extension Dictionary: JSONReadable where Key == String, Value: JSONReadable {
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> [String: Value] {
        guard case .object(let members) = value else { throw JSONReading.mismatch([String: JSONValue].self, value, path, context) }
        var result: [String: Value] = [:]
        result.reserveCapacity(members.count)
        for (key, member) in members {
            result[key] = try Value.read(member, at: path.appending(key), context)
        }
        return result
    }
}

extension Quantity: JSONReadable {
    /// A string in Kubernetes' quantity format, or a number (`init(from:)` reads through this too).
    public static func read(_ value: JSONValue, at path: JSONReadPath, _ context: JSONReadContext) throws -> Quantity {
        switch value {
        case .string(let text):
            guard let parsed = Quantity.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: context.codingPath(path), debugDescription: Quantity.formatMessage))
            }
            return parsed
        case .int(let integer):
            return Quantity(text: String(integer), mantissa: Int128(integer), exponent10: 0, exponent2: 0)
        case .double(let number):
            if number.isFinite, number.rounded() == number, let integer = Int64(exactly: number) {
                return Quantity(text: String(integer), mantissa: Int128(integer), exponent10: 0, exponent2: 0)
            }
            guard number.isFinite, let parsed = Quantity.parse("\(number)") else {
                throw DecodingError.dataCorrupted(.init(codingPath: context.codingPath(path), debugDescription: Quantity.formatMessage))
            }
            return parsed
        default:
            throw DecodingError.typeMismatch(String.self, .init(
                codingPath: context.codingPath(path), debugDescription: "a quantity must be a string such as \"1Gi\" or a number"))
        }
    }
}
