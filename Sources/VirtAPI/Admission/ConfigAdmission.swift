import VirtError

/// Validation of core `Secret` and `ConfigMap`: binary values must be base64.
enum ConfigAdmission {
    static func validateSecret(_ secret: Secret, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        var causes = validateBase64Values(secret.data ?? [:], field: "data")
        if let old, old["immutable"] == .bool(true), old["data"] != object["data"] || old["stringData"] != object["stringData"] {
            causes.append(FieldErrors.forbidden("data", "field is immutable when `immutable` is set"))
        }
        return causes
    }

    static func validateConfigMap(_ configMap: ConfigMap, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        var causes = validateBase64Values(configMap.binaryData ?? [:], field: "binaryData")
        if let old, old["immutable"] == .bool(true), old["data"] != object["data"] || old["binaryData"] != object["binaryData"] {
            causes.append(FieldErrors.forbidden("data", "field is immutable when `immutable` is set"))
        }
        return causes
    }

    static func validateBase64Values(_ values: [String: String], field: String) -> [VirtError.Cause] {
        values.keys.sorted().compactMap { key in
            guard let value = values[key], !FieldErrors.isBase64(value) else { return nil }
            return FieldErrors.invalid("\(field)[\(key)]", "must be base64-encoded; put plain text in stringData or data instead")
        }
    }
}
