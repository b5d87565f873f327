/// A minimal protobuf (proto3) encoder: varints, length-delimited strings and bytes, nested messages and
/// 64-bit doubles. Fields holding their type's default (empty string, false, 0) are left out, as proto3
/// encoders do; a nested message is written even when empty, since its presence is meaningful.
struct ProtobufWriter {
    /// Wire types of the protobuf encoding.
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    private(set) var bytes: [UInt8] = []

    /// An unsigned varint: seven bits a byte, low bits first.
    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// A field's key: its number and wire type.
    mutating func tag(_ field: Int, _ wire: WireType) {
        varint(UInt64(field) << 3 | wire.rawValue)
    }

    /// A string field; empty strings are the default and are not written.
    mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, Array(value.utf8))
    }

    /// Every element of a `repeated string`, empty ones included.
    mutating func strings(_ field: Int, _ values: [String]) {
        for value in values { lengthDelimited(field, Array(value.utf8)) }
    }

    /// A `bool` field; `false` is the default and is not written.
    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        tag(field, .varint)
        varint(1)
    }

    /// An `int64` field (negative values take ten bytes, as in protobuf).
    mutating func int64(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// A `double` field, little-endian IEEE 754.
    mutating func double(_ field: Int, _ value: Double) {
        guard value != 0 else { return }
        tag(field, .fixed64)
        var bits = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    /// A nested message, built by `body` on a writer of its own.
    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        body(&nested)
        lengthDelimited(field, nested.bytes)
    }

    /// A length-delimited field holding `payload`.
    mutating func lengthDelimited(_ field: Int, _ payload: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }
}
