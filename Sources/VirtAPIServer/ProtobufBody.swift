import Foundation
import VirtAPI
import VirtError

/// Request bodies in Kubernetes' protobuf encoding, which kubectl's typed clients send for built-in kinds
/// (`kubectl create namespace|configmap|secret`, evictions from `kubectl drain`). Only the kinds those
/// commands send are described, each by the `protobuf` message of its `ResourceType`; anything else gets a
/// 415 that asks for JSON.
enum ProtobufBody {
    /// `k8s\0`, then a `runtime.Unknown` wrapping the object.
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// The object of a protobuf body, as JSON; its message is that of the registry's kind of that name.
    static func decode(_ bytes: [UInt8], registry: Registry = .standard) throws -> JSONValue {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw VirtError(.unsupported, "the protobuf body lacks the Kubernetes envelope; send JSON (Content-Type: application/json)")
        }
        var reader = Reader(data: bytes, index: 4, end: bytes.count)
        var apiVersion = "", kind = ""
        var raw: [UInt8] = []
        while let (field, wire) = try reader.nextTag() {
            switch (field, wire) {
            case (1, 2):
                var typeMeta = try reader.subReader()
                while let (f, w) = try typeMeta.nextTag() {
                    switch (f, w) {
                    case (1, 2): apiVersion = try typeMeta.string()
                    case (2, 2): kind = try typeMeta.string()
                    default: try typeMeta.skip(w)
                    }
                }
            case (2, 2): raw = try reader.bytes()
            default: try reader.skip(wire)
            }
        }
        guard let schema = registry.types.first(where: { $0.kind == kind && $0.protobuf != nil })?.protobuf else {
            throw VirtError(.unsupported, "protobuf bodies are not supported for \(kind.isEmpty ? "this kind" : kind); send JSON (Content-Type: application/json)")
        }
        var objectReader = Reader(data: raw, index: 0, end: raw.count)
        var object = try decodeMessage(&objectReader, schema: schema)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    static func decodeMessage(_ reader: inout Reader, schema: ProtobufMessage) throws -> JSONValue {
        var object: [String: JSONValue] = [:]
        // Repeated fields and maps grow here, in place: growing them inside `object` would copy them
        // for every element, quadratic in a body that repeats one field a million times.
        var lists: [String: [JSONValue]] = [:]
        var maps: [String: [String: JSONValue]] = [:]
        while let (field, wire) = try reader.nextTag() {
            guard let (name, type) = schema.fields[field] else {
                try reader.skip(wire)
                continue
            }
            switch type {
            case .repeated(let element):
                lists[name, default: []].append(try decodeValue(&reader, type: element, wire: wire))
            case .stringMap, .bytesMap:
                guard wire == 2 else { throw reader.fail() }
                var entry = try reader.subReader()
                var key = "", value: JSONValue = ""
                while let (f, w) = try entry.nextTag() {
                    switch (f, w) {
                    case (1, 2): key = try entry.string()
                    case (2, 2):
                        if case .bytesMap = type { value = .string(Data(try entry.bytes()).base64EncodedString()) } else { value = .string(try entry.string()) }
                    default: try entry.skip(w)
                    }
                }
                maps[name, default: [:]][key] = value
            default:
                object[name] = try decodeValue(&reader, type: type, wire: wire)
            }
        }
        for (name, items) in lists { object[name] = .array(items) }
        for (name, map) in maps { object[name] = .object(map) }
        return .object(object)
    }

    static func decodeValue(_ reader: inout Reader, type: ProtobufMessage.FieldType, wire: Int) throws -> JSONValue {
        switch type {
        case .int, .bool:
            guard wire == 0 else { throw reader.fail() }
        default:
            guard wire == 2 else { throw reader.fail() }
        }
        switch type {
        case .string: return .string(try reader.string())
        case .bytes: return .string(Data(try reader.bytes()).base64EncodedString())
        case .int: return .int(Int64(bitPattern: try reader.varint()))
        case .bool: return .bool(try reader.varint() != 0)
        case .time:
            var sub = try reader.subReader()
            var seconds: Int64 = 0
            while let (f, w) = try sub.nextTag() {
                if f == 1, w == 0 { seconds = Int64(bitPattern: try sub.varint()) } else { try sub.skip(w) }
            }
            guard validSeconds.contains(seconds) else {
                throw VirtError(.badRequest, "malformed protobuf body: a timestamp of \(seconds) seconds is outside years 1 to 9999")
            }
            return .string(Timestamp.format(seconds: Int(seconds)))
        case .message(let schema):
            var sub = try reader.subReader()
            return try decodeMessage(&sub, schema: schema)
        case .stringMap, .bytesMap, .repeated:
            throw VirtError(.badRequest, "malformed protobuf body")
        }
    }

    /// The seconds a protobuf `Timestamp` may hold: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    static let validSeconds: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// A cursor over protobuf wire data. Every length is checked against the bytes left before it is
    /// used, so no input can index past the end or overflow an offset.
    struct Reader {
        let data: [UInt8]
        var index: Int
        let end: Int

        func fail() -> VirtError { VirtError(.badRequest, "malformed protobuf body at byte \(index)") }

        mutating func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while index < end, shift < 64 {
                let byte = data[index]
                index += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            throw fail()
        }

        mutating func nextTag() throws -> (Int, Int)? {
            guard index < end else { return nil }
            let tag = try varint()
            return (Int(tag >> 3), Int(tag & 7))
        }

        /// A length prefix that fits in the bytes left.
        mutating func length() throws -> Int {
            let start = index
            let length = try varint()
            guard length <= UInt64(end - index) else {
                index = start
                throw fail()
            }
            return Int(length)
        }

        /// Moves past `count` bytes, which must be there.
        mutating func advance(_ count: Int) throws {
            guard count <= end - index else { throw fail() }
            index += count
        }

        mutating func bytes() throws -> [UInt8] {
            let length = try length()
            defer { index += length }
            return Array(data[index..<(index + length)])
        }

        mutating func string() throws -> String { String(decoding: try bytes(), as: UTF8.self) }

        mutating func subReader() throws -> Reader {
            let length = try length()
            defer { index += length }
            return Reader(data: data, index: index, end: index + length)
        }

        mutating func skip(_ wire: Int) throws {
            switch wire {
            case 0: _ = try varint()
            case 1: try advance(8)
            case 2: try advance(try length())
            case 5: try advance(4)
            default: throw fail()
            }
        }
    }
}
