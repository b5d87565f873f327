import VirtAPI

/// Read access to the `metadata` every stored object carries, for code that works on raw objects.
extension JSONValue {
    /// `metadata.name`.
    public var metadataName: String? { self[path: ["metadata", "name"]]?.stringValue }
    /// `metadata.namespace`.
    public var metadataNamespace: String? { self[path: ["metadata", "namespace"]]?.stringValue }
    /// `metadata.uid`.
    public var metadataUID: String? { self[path: ["metadata", "uid"]]?.stringValue }
    /// `metadata.resourceVersion`.
    public var metadataResourceVersion: String? { self[path: ["metadata", "resourceVersion"]]?.stringValue }
    /// `metadata.generation`.
    public var metadataGeneration: Int64? { self[path: ["metadata", "generation"]]?.intValue }
    /// `metadata.deletionTimestamp`: set once a delete waits for finalizers.
    public var metadataDeletionTimestamp: String? {
        self[path: ["metadata", "deletionTimestamp"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }
    /// `metadata.finalizers`.
    public var metadataFinalizers: [String] {
        self[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
    /// `metadata.labels`.
    public var metadataLabels: [String: String] {
        (self[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
    /// `metadata.ownerReferences`.
    public var metadataOwnerReferences: [JSONValue] { self[path: ["metadata", "ownerReferences"]]?.arrayValue ?? [] }

    /// The owner reference with `controller: true`, if any.
    public var controllerReference: (apiVersion: String, kind: String, name: String, uid: String)? {
        for reference in metadataOwnerReferences where reference["controller"]?.boolValue == true {
            guard let kind = reference["kind"]?.stringValue, let name = reference["name"]?.stringValue,
                  let uid = reference["uid"]?.stringValue else { continue }
            return (reference["apiVersion"]?.stringValue ?? "", kind, name, uid)
        }
        return nil
    }

    /// Whether the object's controller (owner reference with `controller: true`) has this UID.
    public func isControlled(byUID uid: String) -> Bool {
        controllerReference?.uid == uid
    }

    /// The key of the VirtualMachineInstance that controls this object (a launcher pod), if one does.
    public var controllingVMIKey: ObjectKey? {
        guard let owner = controllerReference, owner.kind == "VirtualMachineInstance" else { return nil }
        return ObjectKey(namespace: metadataNamespace, name: owner.name)
    }
}
