import VirtAPI
import VirtClient

extension APIResource {
    /// Sets `apiVersion` and `kind` on a list item that lacks them (lists may leave them out of items).
    func completing(_ item: JSONValue) -> JSONValue {
        var item = item
        if item["apiVersion"]?.stringValue == nil { item["apiVersion"] = .string(apiVersion) }
        if item["kind"]?.stringValue == nil { item["kind"] = .string(kind) }
        return item
    }

    /// `virtualmachine.kubevirt.io/NAME`, as `-o name` and apply print it.
    func displayName(_ name: String) -> String { "\(kindQualifiedName)/\(name)" }

    /// `virtualmachine.kubevirt.io "NAME"`, as delete prints it.
    func quotedName(_ name: String) -> String { "\(kindQualifiedName) \"\(name)\"" }
}

extension JSONValue {
    /// `metadata.name`.
    var manifestName: String? { self[path: ["metadata", "name"]]?.stringValue }
    /// `metadata.namespace`.
    var manifestNamespace: String? { self[path: ["metadata", "namespace"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
    /// `metadata.resourceVersion`.
    var manifestResourceVersion: String? { self[path: ["metadata", "resourceVersion"]]?.stringValue }
}
