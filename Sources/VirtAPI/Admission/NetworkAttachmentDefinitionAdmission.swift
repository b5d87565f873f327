import VirtError

/// Validation of k8s.cni.cncf.io/v1 `NetworkAttachmentDefinition`: the CNI config must be one Multus can
/// load, as the network plumbing working group's admission checks it.
///
/// An empty config is allowed (Multus then reads a file of the same name on the node). Otherwise it is a
/// JSON object, either one plugin with a `type` or a `plugins` list whose every entry has one.
/// `cniVersion` and `name` may be left out: CNI reads a missing version as its oldest, and Multus names
/// the network after the NetworkAttachmentDefinition. Where given, they are strings.
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
        for key in ["cniVersion", "name"] {
            if let value = parsed[key], value.stringValue == nil {
                causes.append(FieldErrors.invalid(field, "\"\(key)\" must be a string, not \(value.typeName)"))
            }
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
