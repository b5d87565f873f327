import VirtError

/// Builds causes worded as Kubernetes' `field.Error`s (`Required value`, `Invalid value: …`,
/// `Unsupported value: …`, `Duplicate value: …`, `Forbidden: …`).
enum FieldErrors {
    static func required(_ field: String, _ detail: String? = nil) -> VirtError.Cause {
        VirtError.Cause(reason: "FieldValueRequired", message: detail.map { "Required value: \($0)" } ?? "Required value", field: field)
    }

    static func invalid(_ field: String, _ value: String, _ detail: String) -> VirtError.Cause {
        VirtError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \(quoted(value)): \(detail)", field: field)
    }

    static func invalid(_ field: String, number value: Int64, _ detail: String) -> VirtError.Cause {
        VirtError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \(value): \(detail)", field: field)
    }

    /// An invalid structure rather than an invalid scalar (no value to show).
    static func invalid(_ field: String, _ detail: String) -> VirtError.Cause {
        VirtError.Cause(reason: "FieldValueInvalid", message: detail, field: field)
    }

    static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> VirtError.Cause {
        let list = supported.map(quoted).joined(separator: ", ")
        return VirtError.Cause(
            reason: "FieldValueNotSupported", message: "Unsupported value: \(quoted(value)): supported values: \(list)", field: field)
    }

    static func duplicate(_ field: String, _ value: String, _ detail: String? = nil) -> VirtError.Cause {
        let base = "Duplicate value: \(quoted(value))"
        return VirtError.Cause(reason: "FieldValueDuplicate", message: detail.map { "\(base): \($0)" } ?? base, field: field)
    }

    static func duplicate(_ field: String, number value: Int64, _ detail: String) -> VirtError.Cause {
        VirtError.Cause(reason: "FieldValueDuplicate", message: "Duplicate value: \(value): \(detail)", field: field)
    }

    static func forbidden(_ field: String, _ detail: String) -> VirtError.Cause {
        VirtError.Cause(reason: "FieldValueForbidden", message: "Forbidden: \(detail)", field: field)
    }

    static func quoted(_ value: String) -> String {
        var out = ""
        JSONValue.writeString(value, to: &out)
        return out
    }

    /// Whether `text` is standard base64 (RFC 4648 alphabet, `=` padding); line breaks are ignored.
    static func isBase64(_ text: String) -> Bool {
        var count = 0
        var padding = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "="):
                padding += 1
                if padding > 2 { return false }
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding > 0 { return false }
            default:
                return false
            }
            count += 1
        }
        return count % 4 == 0
    }

    /// Whether `text` is a MAC address: six octets separated by `:` or `-` (`02:00:00:00:00:01`).
    static func isMACAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 17 else { return false }
        let separator = bytes[2]
        guard separator == UInt8(ascii: ":") || separator == UInt8(ascii: "-") else { return false }
        for (i, b) in bytes.enumerated() {
            if i % 3 == 2 {
                if b != separator { return false }
            } else if !((UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(b))
            {
                return false
            }
        }
        return true
    }
}
