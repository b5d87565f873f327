/// Encodes a value to nothing and records the path of every coding key its `Encodable` conformance
/// names, also the keys of optionals that are nil (which the synthesized conformance hands to
/// `encodeIfPresent`, and a real encoder leaves out). What a type encodes is what `Codable` thinks the type
/// has: a key recorded as nil after a read is a field the reader did not fill.
final class CodingKeyRecorder {
    /// Paths (`spec.template.spec.domain.cpu.cores`, `status.conditions[0].reason`) of keys encoded as absent.
    private(set) var absentKeys: [String] = []
    /// Paths of every key encoded, absent or not.
    private(set) var keys: [String] = []

    static func record(_ value: some Encodable) throws -> CodingKeyRecorder {
        let recorder = CodingKeyRecorder()
        try value.encode(to: RecordingEncoder(recorder: recorder, path: ""))
        return recorder
    }

    fileprivate func key(_ path: String, absent: Bool) {
        keys.append(path)
        if absent { absentKeys.append(path) }
    }
}

private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

private struct RecordingEncoder: Encoder {
    let recorder: CodingKeyRecorder
    let path: String
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedRecorder<Key>(recorder: recorder, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedRecorder(recorder: recorder, path: path) }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueRecorder(recorder: recorder, path: path) }
}

private struct KeyedRecorder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let recorder: CodingKeyRecorder
    let path: String
    var codingPath: [any CodingKey] { [] }

    private func present(_ key: Key) { recorder.key(join(path, key.stringValue), absent: false) }
    private func absent(_ key: Key) { recorder.key(join(path, key.stringValue), absent: true) }

    mutating func encodeNil(forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: String, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { present(key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { present(key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        present(key)
        try value.encode(to: RecordingEncoder(recorder: recorder, path: join(path, key.stringValue)))
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { if value == nil { absent(key) } else { present(key) } }

    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        guard let value else { return absent(key) }
        try encode(value, forKey: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        present(key)
        return KeyedEncodingContainer(KeyedRecorder<NestedKey>(recorder: recorder, path: join(path, key.stringValue)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        present(key)
        return UnkeyedRecorder(recorder: recorder, path: join(path, key.stringValue))
    }

    mutating func superEncoder() -> any Encoder { RecordingEncoder(recorder: recorder, path: join(path, "super")) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        present(key)
        return RecordingEncoder(recorder: recorder, path: join(path, key.stringValue))
    }
}

private struct UnkeyedRecorder: UnkeyedEncodingContainer {
    let recorder: CodingKeyRecorder
    let path: String
    var codingPath: [any CodingKey] { [] }
    var count = 0

    init(recorder: CodingKeyRecorder, path: String) {
        self.recorder = recorder
        self.path = path
    }

    private mutating func next() -> String {
        defer { count += 1 }
        return "\(path)[\(count)]"
    }

    mutating func encodeNil() throws { _ = next() }
    mutating func encode(_ value: Bool) throws { _ = next() }
    mutating func encode(_ value: String) throws { _ = next() }
    mutating func encode(_ value: Double) throws { _ = next() }
    mutating func encode(_ value: Float) throws { _ = next() }
    mutating func encode(_ value: Int) throws { _ = next() }
    mutating func encode(_ value: Int8) throws { _ = next() }
    mutating func encode(_ value: Int16) throws { _ = next() }
    mutating func encode(_ value: Int32) throws { _ = next() }
    mutating func encode(_ value: Int64) throws { _ = next() }
    mutating func encode(_ value: UInt) throws { _ = next() }
    mutating func encode(_ value: UInt8) throws { _ = next() }
    mutating func encode(_ value: UInt16) throws { _ = next() }
    mutating func encode(_ value: UInt32) throws { _ = next() }
    mutating func encode(_ value: UInt64) throws { _ = next() }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: RecordingEncoder(recorder: recorder, path: next()))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedRecorder<NestedKey>(recorder: recorder, path: next()))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedRecorder(recorder: recorder, path: next()) }

    mutating func superEncoder() -> any Encoder { RecordingEncoder(recorder: recorder, path: next()) }
}

private struct SingleValueRecorder: SingleValueEncodingContainer {
    let recorder: CodingKeyRecorder
    let path: String
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws {}
    mutating func encode(_ value: Bool) throws {}
    mutating func encode(_ value: String) throws {}
    mutating func encode(_ value: Double) throws {}
    mutating func encode(_ value: Float) throws {}
    mutating func encode(_ value: Int) throws {}
    mutating func encode(_ value: Int8) throws {}
    mutating func encode(_ value: Int16) throws {}
    mutating func encode(_ value: Int32) throws {}
    mutating func encode(_ value: Int64) throws {}
    mutating func encode(_ value: UInt) throws {}
    mutating func encode(_ value: UInt8) throws {}
    mutating func encode(_ value: UInt16) throws {}
    mutating func encode(_ value: UInt32) throws {}
    mutating func encode(_ value: UInt64) throws {}
    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: RecordingEncoder(recorder: recorder, path: path))
    }
}
