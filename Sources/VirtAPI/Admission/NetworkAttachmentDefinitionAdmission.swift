import VirtError

/// Validation of k8s.cni.cncf.io/v1 `NetworkAttachmentDefinition`: the CNI config must be usable.
enum NetworkAttachmentDefinitionAdmission {
    static func validate(_ definition: NetworkAttachmentDefinition, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        guard let config = definition.spec?.config, !config.isEmpty else { return [] }
        let field = "spec.config"
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(config)
        } catch {
            return [FieldErrors.invalid(field, "must be a CNI configuration in JSON: \(error.message)")]
        }
        guard parsed.objectValue != nil else {
            return [FieldErrors.invalid(field, "must be a JSON object (a CNI configuration), not \(parsed.typeName)")]
        }
        var causes: [VirtError.Cause] = []
        if parsed["cniVersion"]?.stringValue?.isEmpty ?? true {
            causes.append(FieldErrors.required(field, "the CNI configuration needs \"cniVersion\" (for example \"1.0.0\")"))
        }
        if let plugins = parsed["plugins"] {
            guard let list = plugins.arrayValue, !list.isEmpty else {
                causes.append(FieldErrors.invalid(field, "\"plugins\" must be a non-empty list of plugin configurations"))
                return causes
            }
            for (i, plugin) in list.enumerated() where plugin["type"]?.stringValue?.isEmpty ?? true {
                causes.append(FieldErrors.required(field, "plugins[\(i)] needs \"type\" (the CNI plugin binary, e.g. \"bridge\")"))
            }
        } else if parsed["type"]?.stringValue?.isEmpty ?? true {
            causes.append(FieldErrors.required(
                field, "the CNI configuration needs \"type\" (the plugin, e.g. \"bridge\") or a \"plugins\" list"))
        }
        return causes
    }
}
