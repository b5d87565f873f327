import VirtError

/// The result of a strict decode: the typed value and every field the type did not ask for.
public struct StrictDecodeResult<T> {
    public var value: T
    /// Kubernetes-style dotted paths of fields the typed kind does not model, sorted,
    /// e.g. `spec.template.spec.domain.devices.disks[0].bogus`.
    public var unknownFields: [String]

    public init(value: T, unknownFields: [String]) {
        self.value = value
        self.unknownFields = unknownFields
    }
}

extension StrictDecodeResult: Sendable where T: Sendable {}

/// Decodes `type` from `json` and reports the fields of every JSON object the type opened that it never
/// asked for. A value decoded as `JSONValue` is opaque: nothing inside it is reported.
///
/// A type mismatch or a missing required field becomes `VirtError(.invalid, …)` with one cause in
/// Kubernetes' wording (`FieldValueInvalid` or `FieldValueRequired`) naming the full field path.
public func decodeTracking<T: Decodable>(_ type: T.Type, from json: JSONValue) throws(VirtError) -> StrictDecodeResult<T> {
    if let readable = T.self as? any JSONObjectDecodable.Type {
        return try decodeTracking(readable, as: T.self, from: json)
    }
    let tracker = FieldTracker()
    let decoder = JSONValueDecoderImpl(value: json, tracker: tracker)
    do {
        let value = try decoder.unbox(T.self)
        return StrictDecodeResult(value: value, unknownFields: tracker.unknownFields())
    } catch {
        throw JSONValueDecoder.virtError(from: error, root: json)
    }
}

/// `decodeTracking` for a type that reads itself: no `Codable` containers, no existential on the way.
public func decodeTracking<T: JSONObjectDecodable>(_ type: T.Type, from json: JSONValue) throws(VirtError) -> StrictDecodeResult<T> {
    do {
        let context = JSONReadContext(tracking: true)
        let value = try T.read(json, at: .root, context)
        return StrictDecodeResult(value: value, unknownFields: context.unknownFields.sorted())
    } catch {
        throw JSONValueDecoder.virtError(from: error, root: json)
    }
}

/// `decodeTracking` of a type known to read itself only at run time (opened from an existential).
private func decodeTracking<R: JSONObjectDecodable, T>(_ type: R.Type, as: T.Type, from json: JSONValue) throws(VirtError) -> StrictDecodeResult<T> {
    let result = try decodeTracking(R.self, from: json)
    return StrictDecodeResult(value: result.value as! T, unknownFields: result.unknownFields)
}

/// Decodes `Decodable` types straight from a `JSONValue`, without going through JSON text.
///
/// Numbers decode into any integer or floating-point type (integers only when integral and in range);
/// strings decode only from JSON strings; a member typed `JSONValue` receives the subtree as is.
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// Decodes `type`, throwing `DecodingError` on a mismatch. Unknown fields are ignored.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        if let readable = T.self as? any JSONObjectDecodable.Type {
            return try readable.read(value, at: .root, JSONReadContext(tracking: false)) as! T
        }
        let decoder = JSONValueDecoderImpl(value: value, tracker: nil)
        return try decoder.unbox(T.self)
    }

    /// Decodes `type`, turning any failure into `VirtError(.invalid, …)` with a field cause.
    public func decodeChecked<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(VirtError) -> T {
        do {
            return try decode(type, from: value)
        } catch {
            throw JSONValueDecoder.virtError(from: error, root: value)
        }
    }

    /// Renders a coding path the way Kubernetes prints field paths: `spec.volumes[0].name`.
    public static func fieldPath(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if key is JSONIndexKey, let index = key.intValue {
                out += "[\(index)]"
            } else {
                if !out.isEmpty { out += "." }
                out += key.stringValue
            }
        }
        return out
    }

    /// Converts any error thrown while decoding `root` into a `VirtError` with Kubernetes-style causes.
    public static func virtError(from error: any Error, root: JSONValue) -> VirtError {
        if let error = error as? VirtError { return error }
        guard let error = error as? DecodingError else {
            return VirtError(.invalid, "the object could not be decoded: \(error)")
        }
        let cause: VirtError.Cause
        switch error {
        case .typeMismatch(let type, let context):
            let field = fieldPath(context.codingPath)
            let actual = value(at: context.codingPath, in: root)?.typeName ?? "null"
            let expected = jsonTypeName(type)
            let subject = field.isEmpty ? "body" : "\(field) in body"
            cause = VirtError.Cause(
                reason: "FieldValueInvalid",
                message: "Invalid value: \"\(actual)\": \(subject) must be of type \(expected): \"\(actual)\"",
                field: field)
        case .valueNotFound(_, let context):
            cause = VirtError.Cause(reason: "FieldValueRequired", message: "Required value", field: fieldPath(context.codingPath))
        case .keyNotFound(let key, let context):
            cause = VirtError.Cause(reason: "FieldValueRequired", message: "Required value", field: fieldPath(context.codingPath + [key]))
        case .dataCorrupted(let context):
            let field = fieldPath(context.codingPath)
            let shown = value(at: context.codingPath, in: root).map(render) ?? "null"
            cause = VirtError.Cause(
                reason: "FieldValueInvalid",
                message: "Invalid value: \(shown): \(context.debugDescription)",
                field: field)
        @unknown default:
            return VirtError(.invalid, "the object could not be decoded: \(error)")
        }
        let message = cause.field.isEmpty ? cause.message : "\(cause.field): \(cause.message)"
        return VirtError(.invalid, message, causes: [cause])
    }

    /// The OpenAPI type name Kubernetes uses in "must be of type …" messages.
    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "boolean"
        case is String.Type: "string"
        case is Double.Type, is Float.Type: "number"
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type,
            is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type:
            "integer"
        case is [JSONValue].Type: "array"
        case is [String: JSONValue].Type: "object"
        default: "\(type)"
        }
    }

    /// A value as Kubernetes shows it after "Invalid value:".
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let s):
            var out = ""
            JSONValue.writeString(s, to: &out)
            return out
        case .object, .array: return "\"\(value.typeName)\""
        default: return value.serialized()
        }
    }

    static func value(at codingPath: [any CodingKey], in root: JSONValue) -> JSONValue? {
        var current: JSONValue? = root
        for key in codingPath {
            if key is JSONIndexKey, let index = key.intValue {
                guard let array = current?.arrayValue, array.indices.contains(index) else { return nil }
                current = array[index]
            } else {
                current = current?[key.stringValue]
            }
        }
        return current
    }
}

/// An array index in a coding path (rendered as `[i]`).
struct JSONIndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(index: Int) { self.intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// A plain key for `superDecoder()`.
struct JSONSuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) {}
    init?(intValue: Int) { return nil }
}

/// Records which keys of each opened JSON object the decoded type asked for.
///
/// Decoding is on every write's path, so recording is cheap: an opened object keeps its decoder (its path
/// is spelled out only when some key went unasked) and the keys asked, in a small array.
final class FieldTracker {
    struct Entry {
        var decoder: JSONValueDecoderImpl
        var object: [String: JSONValue]
        var used: [String] = []
    }

    var entries: [Entry] = []
    /// Unknown fields found by `JSONObjectDecodable` values read inside this decode, as full paths.
    var extraUnknown: [String] = []

    init() {
        entries.reserveCapacity(32)
    }

    func open(_ decoder: JSONValueDecoderImpl, object: [String: JSONValue]) -> Int {
        entries.append(Entry(decoder: decoder, object: object))
        return entries.count - 1
    }

    func use(_ key: String, entry: Int) {
        entries[entry].used.append(key)
    }

    func unknownFields() -> [String] {
        // Usually every key was asked for and no path is ever built.
        let suspects = entries.indices.filter { index in
            entries[index].object.keys.contains { !entries[index].used.contains($0) }
        }
        if suspects.isEmpty { return Array(Set(extraUnknown)).sorted() }
        // The same object may have been opened more than once (a super decoder, a second look): a key asked
        // for through any of them counts.
        var usedByPath: [String: Set<String>] = [:]
        for entry in entries {
            usedByPath[JSONValueDecoder.fieldPath(entry.decoder.codingPath), default: []].formUnion(entry.used)
        }
        var unknown = Set(extraUnknown)
        for index in suspects {
            let path = JSONValueDecoder.fieldPath(entries[index].decoder.codingPath)
            let asked = usedByPath[path] ?? []
            for key in entries[index].object.keys where !asked.contains(key) {
                unknown.insert(path.isEmpty ? key : "\(path).\(key)")
            }
        }
        return unknown.sorted()
    }
}

final class JSONValueDecoderImpl: Decoder {
    let value: JSONValue
    /// The decoder of the enclosing value and the key of this one in it; the coding path is built from
    /// them only when asked (errors, unknown fields), not copied into every child.
    let parent: JSONValueDecoderImpl?
    let key: (any CodingKey)?
    let tracker: FieldTracker?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: JSONValue, tracker: FieldTracker?) {
        self.value = value
        self.parent = nil
        self.key = nil
        self.tracker = tracker
    }

    init(value: JSONValue, parent: JSONValueDecoderImpl, key: any CodingKey) {
        self.value = value
        self.parent = parent
        self.key = key
        self.tracker = parent.tracker
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var node: JSONValueDecoderImpl? = self
        while let current = node, let key = current.key {
            path.append(key)
            node = current.parent
        }
        return path.reversed()
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            if value == .null { throw valueNotFound([String: JSONValue].self) }
            throw typeMismatch([String: JSONValue].self, codingPath)
        }
        let entry = tracker?.open(self, object: object)
        return KeyedDecodingContainer(JSONKeyedContainer<Key>(decoder: self, object: object, entry: entry))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let array) = value else {
            if value == .null { throw valueNotFound([JSONValue].self) }
            throw typeMismatch([JSONValue].self, codingPath)
        }
        return JSONUnkeyedContainer(decoder: self, array: array)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        JSONSingleValueContainer(decoder: self)
    }

    // MARK: - Unboxing

    func child(_ value: JSONValue, key: any CodingKey) -> JSONValueDecoderImpl {
        JSONValueDecoderImpl(value: value, parent: self, key: key)
    }

    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        // Type identity checks are pointer compares; `is`/`as?` casts on every value would cost more than
        // the decoding itself.
        if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
        if T.self == String.self { return unsafeBitCast(try unboxString(), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try unboxBool(), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try unboxInteger(Int.self), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try unboxFloating(Double.self), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try unboxInteger(Int64.self), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try unboxInteger(Int32.self), to: T.self) }
        if T.self == Float.self { return unsafeBitCast(try unboxFloating(Float.self), to: T.self) }
        if T.self == Int8.self { return unsafeBitCast(try unboxInteger(Int8.self), to: T.self) }
        if T.self == Int16.self { return unsafeBitCast(try unboxInteger(Int16.self), to: T.self) }
        if T.self == UInt.self { return unsafeBitCast(try unboxInteger(UInt.self), to: T.self) }
        if T.self == UInt8.self { return unsafeBitCast(try unboxInteger(UInt8.self), to: T.self) }
        if T.self == UInt16.self { return unsafeBitCast(try unboxInteger(UInt16.self), to: T.self) }
        if T.self == UInt32.self { return unsafeBitCast(try unboxInteger(UInt32.self), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try unboxInteger(UInt64.self), to: T.self) }
        return try T(from: self)
    }

    func unboxBool() throws -> Bool {
        switch value {
        case .bool(let b): return b
        case .null: throw valueNotFound(Bool.self)
        default: throw typeMismatch(Bool.self, codingPath)
        }
    }

    func unboxString() throws -> String {
        switch value {
        case .string(let s): return s
        case .null: throw valueNotFound(String.self)
        default: throw typeMismatch(String.self, codingPath)
        }
    }

    func unboxInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        switch value {
        case .int(let i):
            if let v = T(exactly: i) { return v }
            throw outOfRange(T.self, negative: i < 0)
        case .double(let d):
            guard d.isFinite, d.rounded() == d else { throw typeMismatch(T.self, codingPath) }
            if let v = T(exactly: d) { return v }
            throw outOfRange(T.self, negative: d < 0)
        case .null: throw valueNotFound(T.self)
        default: throw typeMismatch(T.self, codingPath)
        }
    }

    func unboxFloating<T: BinaryFloatingPoint>(_ type: T.Type) throws -> T {
        switch value {
        case .int(let i): return T(i)
        case .double(let d):
            let v = T(d)
            if d.isFinite, !v.isFinite {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: codingPath,
                    debugDescription: "\(JSONValueDecoder.fieldPath(codingPath)) in body is out of range for a \(T.self)"))
            }
            return v
        case .null: throw valueNotFound(T.self)
        default: throw typeMismatch(T.self, codingPath)
        }
    }

    func typeMismatch(_ type: Any.Type, _ path: [any CodingKey]) -> DecodingError {
        let expected = JSONValueDecoder.jsonTypeName(type)
        let found = value.typeName
        return DecodingError.typeMismatch(type, .init(
            codingPath: path, debugDescription: "Expected a value of type \(expected) but found \(found) instead."))
    }

    func valueNotFound(_ type: Any.Type) -> DecodingError {
        DecodingError.valueNotFound(type, .init(
            codingPath: codingPath, debugDescription: "Expected a value of type \(JSONValueDecoder.jsonTypeName(type)) but found null instead."))
    }

    func outOfRange<T: FixedWidthInteger>(_ type: T.Type, negative: Bool) -> DecodingError {
        let field = JSONValueDecoder.fieldPath(codingPath)
        let subject = field.isEmpty ? "body" : "\(field) in body"
        let bound = negative ? "greater than or equal to \(T.min)" : "less than or equal to \(T.max)"
        return DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(subject) should be \(bound)"))
    }
}

struct JSONKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: JSONValueDecoderImpl
    let object: [String: JSONValue]
    let entry: Int?

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { object.keys.sorted().compactMap { Key(stringValue: $0) } }

    /// The member at `key`, recorded as asked for when it is there (only members that are there can be
    /// unknown, so a missing key costs no record).
    ///
    /// Types model many optional fields and objects carry a few, so most keys asked for are missing. A small
    /// object is searched by comparing its keys (lengths first), which costs less than hashing the key:
    /// about 250,000 instructions per VirtualMachine review against 295,000 (callgrind,
    /// `VirtBench admission`).
    func member(_ key: Key) -> JSONValue? {
        let name = key.stringValue
        var found: JSONValue?
        if object.count <= 8 {
            // Keys only: walking the pairs would retain and release every value on the way.
            let length = name.utf8.count
            if let index = object.keys.firstIndex(where: { $0.utf8.count == length && $0 == name }) {
                found = object.values[index]
            }
        } else {
            found = object[name]
        }
        if found != nil, let entry { decoder.tracker?.use(name, entry: entry) }
        return found
    }

    func contains(_ key: Key) -> Bool {
        member(key) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let member = member(key) else {
            throw keyNotFound(key)
        }
        if case .null = member { return true }
        return false
    }

    func keyNotFound(_ key: Key) -> DecodingError {
        DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value for required key \"\(key.stringValue)\"."))
    }

    func childDecoder(_ key: Key) throws -> JSONValueDecoderImpl {
        guard let member = member(key) else { throw keyNotFound(key) }
        return decoder.child(member, key: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try childDecoder(key).unbox(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try present(key)?.unbox(T.self)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try childDecoder(key).unboxBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try childDecoder(key).unboxString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try childDecoder(key).unboxFloating(Double.self) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try childDecoder(key).unboxFloating(Float.self) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try childDecoder(key).unboxInteger(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try childDecoder(key).unboxInteger(Int8.self) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try childDecoder(key).unboxInteger(Int16.self) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try childDecoder(key).unboxInteger(Int32.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try childDecoder(key).unboxInteger(Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try childDecoder(key).unboxInteger(UInt.self) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try childDecoder(key).unboxInteger(UInt8.self) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try childDecoder(key).unboxInteger(UInt16.self) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try childDecoder(key).unboxInteger(UInt32.self) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try childDecoder(key).unboxInteger(UInt64.self) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.unboxBool() }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key)?.unboxString() }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.unboxFloating(Double.self) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try present(key)?.unboxFloating(Float.self) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.unboxInteger(Int.self) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try present(key)?.unboxInteger(Int8.self) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try present(key)?.unboxInteger(Int16.self) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try present(key)?.unboxInteger(Int32.self) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(key)?.unboxInteger(Int64.self) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try present(key)?.unboxInteger(UInt.self) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try present(key)?.unboxInteger(UInt8.self) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try present(key)?.unboxInteger(UInt16.self) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try present(key)?.unboxInteger(UInt32.self) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try present(key)?.unboxInteger(UInt64.self) }

    /// The child decoder for a key that is present and not null.
    func present(_ key: Key) -> JSONValueDecoderImpl? {
        guard let member = member(key) else { return nil }
        if case .null = member { return nil }
        return decoder.child(member, key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try childDecoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try childDecoder(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.child(.object(object), key: JSONSuperKey())
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.child(member(key) ?? .null, key: key)
    }
}

struct JSONUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: JSONValueDecoderImpl
    let array: [JSONValue]
    var currentIndex = 0

    init(decoder: JSONValueDecoderImpl, array: [JSONValue]) {
        self.decoder = decoder
        self.array = array
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    mutating func next(_ type: Any.Type) throws -> JSONValueDecoderImpl {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(
                codingPath: codingPath + [JSONIndexKey(index: currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        let child = decoder.child(array[currentIndex], key: JSONIndexKey(index: currentIndex))
        currentIndex += 1
        return child
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any?.self, .init(
                codingPath: codingPath + [JSONIndexKey(index: currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        if array[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(T.self).unbox(T.self) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).unboxBool() }
    mutating func decode(_ type: String.Type) throws -> String { try next(type).unboxString() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type).unboxFloating(Double.self) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type).unboxFloating(Float.self) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type).unboxInteger(Int.self) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type).unboxInteger(Int8.self) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type).unboxInteger(Int16.self) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type).unboxInteger(Int32.self) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).unboxInteger(Int64.self) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).unboxInteger(UInt.self) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).unboxInteger(UInt8.self) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).unboxInteger(UInt16.self) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).unboxInteger(UInt32.self) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).unboxInteger(UInt64.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next([String: JSONValue].self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([JSONValue].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next(Any.self)
    }
}

struct JSONSingleValueContainer: SingleValueDecodingContainer {
    let decoder: JSONValueDecoderImpl

    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(T.self) }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.unboxBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.unboxString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.unboxFloating(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.unboxFloating(Float.self) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.unboxInteger(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.unboxInteger(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.unboxInteger(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.unboxInteger(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.unboxInteger(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.unboxInteger(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.unboxInteger(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.unboxInteger(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.unboxInteger(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.unboxInteger(UInt64.self) }
}
