import Foundation
import VirtError

/// Core `Secret` and `ConfigMap`: the stored form (a Secret's `stringData` folded into `data`, its `type`
/// defaulted) and Kubernetes' rules for both — keys, base64 values, the types' required keys, the size
/// limit and `immutable`.
enum ConfigAdmission {
    /// What a Secret or ConfigMap may hold in all, as in Kubernetes (1 MiB).
    static let maxTotalBytes = 1024 * 1024

    // MARK: - Secret

    /// `stringData` becomes base64 `data` (its keys win over the same keys in `data`) and is not stored;
    /// an absent or empty `type` is `Opaque`. Kubernetes does both on every write.
    @Sendable static func normalizeSecret(_ object: inout JSONValue) {
        if case .object(let plain)? = object["stringData"] {
            var data = object["data"]?.objectValue ?? [:]
            for (key, value) in plain {
                // A non-string value is left for validation to name.
                guard let text = value.stringValue else { return }
                data[key] = .string(Data(text.utf8).base64EncodedString())
            }
            object["data"] = .object(data)
            object["stringData"] = nil
        }
        if object["type"] == nil || object["type"] == .string("") {
            object["type"] = "Opaque"
        }
    }

    static func validateSecret(_ secret: Secret, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        let data = secret.data ?? [:]
        var causes = validateKeys(Array(data.keys), field: "data")
        causes += validateBase64Values(data, field: "data")
        if causes.isEmpty, decodedSize(data) > maxTotalBytes {
            causes.append(tooLong("data"))
        }
        causes += validateSecretType(secret.type ?? "Opaque", data: data, annotations: secret.metadata?.annotations ?? [:])
        if let old {
            if let oldType = old["type"]?.stringValue, oldType != (secret.type ?? "Opaque") {
                causes.append(FieldErrors.invalid("type", secret.type ?? "", "field is immutable"))
            }
            causes += validateImmutable(object: object, old: old, fields: ["data"])
        }
        return causes
    }

    /// The keys each built-in Secret type requires (Kubernetes' `ValidateSecret`); other types are free.
    static func validateSecretType(_ type: String, data: [String: String], annotations: [String: String]) -> [VirtError.Cause] {
        switch type {
        case "kubernetes.io/service-account-token":
            if (annotations["kubernetes.io/service-account.name"] ?? "").isEmpty {
                return [FieldErrors.required("metadata.annotations[kubernetes.io/service-account.name]")]
            }
        case "kubernetes.io/dockercfg":
            return validateJSONKey(".dockercfg", data: data)
        case "kubernetes.io/dockerconfigjson":
            return validateJSONKey(".dockerconfigjson", data: data)
        case "kubernetes.io/basic-auth":
            if data["username"] == nil, data["password"] == nil {
                return [FieldErrors.required("data[username]"), FieldErrors.required("data[password]")]
            }
        case "kubernetes.io/ssh-auth":
            if (data["ssh-privatekey"] ?? "").isEmpty {
                return [FieldErrors.required("data[ssh-privatekey]")]
            }
        case "kubernetes.io/tls":
            return ["tls.crt", "tls.key"].compactMap { key in data[key] == nil ? FieldErrors.required("data[\(key)]") : nil }
        default:
            break
        }
        return []
    }

    /// A key that must be present and hold a JSON object (registry credentials).
    static func validateJSONKey(_ key: String, data: [String: String]) -> [VirtError.Cause] {
        guard let value = data[key] else { return [FieldErrors.required("data[\(key)]")] }
        guard let bytes = Data(base64Encoded: value, options: .ignoreUnknownCharacters),
              case .object? = try? JSONValue.parse(Array(bytes))
        else {
            return [FieldErrors.invalid("data[\(key)]", "<secret contents redacted>", "must be a JSON object")]
        }
        return []
    }

    // MARK: - ConfigMap

    static func validateConfigMap(_ configMap: ConfigMap, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        let data = configMap.data ?? [:]
        let binary = configMap.binaryData ?? [:]
        var causes = validateKeys(Array(data.keys), field: "data") + validateKeys(Array(binary.keys), field: "binaryData")
        for key in binary.keys.sorted() where data[key] != nil {
            causes.append(FieldErrors.invalid("binaryData[\(key)]", key, "duplicate of key present in data"))
        }
        causes += validateBase64Values(binary, field: "binaryData")
        if causes.isEmpty, data.values.reduce(0, { $0 + $1.utf8.count }) + decodedSize(binary) > maxTotalBytes {
            causes.append(tooLong(""))
        }
        if let old { causes += validateImmutable(object: object, old: old, fields: ["data", "binaryData"]) }
        return causes
    }

    // MARK: - Shared rules

    /// Once `immutable: true` is stored, the content and the flag itself stay as they are.
    static func validateImmutable(object: JSONValue, old: JSONValue, fields: [String]) -> [VirtError.Cause] {
        guard old["immutable"] == .bool(true) else { return [] }
        var causes: [VirtError.Cause] = []
        if object["immutable"] != .bool(true) {
            causes.append(FieldErrors.forbidden("immutable", "field is immutable when `immutable` is set"))
        }
        if fields.contains(where: { old[$0] != object[$0] }) {
            causes.append(FieldErrors.forbidden(fields[0], "field is immutable when `immutable` is set"))
        }
        return causes
    }

    /// Kubernetes' config keys: at most 253 characters of `[-._a-zA-Z0-9]`, and not `.` or `..`.
    static func validateKeys(_ keys: [String], field: String) -> [VirtError.Cause] {
        keys.sorted().compactMap { key in
            if key.isEmpty || key.utf8.count > 253 || key == "." || key == ".."
                || !key.utf8.allSatisfy({ isKeyByte($0) })
            {
                let detail = key == "." || key == ".." ? "must not be '.' or '..'"
                    : "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
                return FieldErrors.invalid("\(field)[\(key)]", key, detail)
            }
            return nil
        }
    }

    static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    static func validateBase64Values(_ values: [String: String], field: String) -> [VirtError.Cause] {
        values.keys.sorted().compactMap { key in
            guard let value = values[key], !FieldErrors.isBase64(value) else { return nil }
            return FieldErrors.invalid("\(field)[\(key)]", "must be base64-encoded; put plain text in stringData or data instead")
        }
    }

    /// The bytes base64 values stand for (without decoding them).
    static func decodedSize(_ values: [String: String]) -> Int {
        values.values.reduce(0) { total, value in
            let length = value.utf8.count { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
            let padding = value.utf8.reversed().prefix(2).count { $0 == UInt8(ascii: "=") }
            return total + length / 4 * 3 - padding
        }
    }

    static func tooLong(_ field: String) -> VirtError.Cause {
        VirtError.Cause(reason: "FieldValueTooLong", message: "Too long: must have at most \(maxTotalBytes) bytes", field: field)
    }
}
