import VirtAPI
import VirtError

/// Checks every kind shares: names, labels, annotations.
enum MetadataValidation {
    static func validate(_ object: JSONValue, namespaced: Bool, isNamespace: Bool) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let name = object.metaName ?? ""
        let nameProblem = isNamespace ? NameValidation.dns1123Label(name) : NameValidation.dns1123Subdomain(name)
        if let nameProblem {
            causes.append(VirtError.Cause(message: "Invalid value: \"\(name)\": \(nameProblem)", field: "metadata.name"))
        }
        if let labels = object[path: ["metadata", "labels"]] {
            guard let labelObject = labels.objectValue else {
                return causes + [VirtError.Cause(message: "Invalid value: must be an object of strings", field: "metadata.labels")]
            }
            for (key, value) in labelObject.sorted(by: { $0.key < $1.key }) {
                if let problem = NameValidation.labelKey(key) {
                    causes.append(VirtError.Cause(message: "Invalid value: \"\(key)\": \(problem)", field: "metadata.labels"))
                }
                guard let text = value.stringValue else {
                    causes.append(VirtError.Cause(message: "Invalid value: label values must be strings", field: "metadata.labels[\(key)]"))
                    continue
                }
                if let problem = NameValidation.labelValue(text) {
                    causes.append(VirtError.Cause(message: "Invalid value: \"\(text)\": \(problem)", field: "metadata.labels"))
                }
            }
        }
        if let annotations = object[path: ["metadata", "annotations"]] {
            if let annotationObject = annotations.objectValue {
                for (key, value) in annotationObject.sorted(by: { $0.key < $1.key }) where value.stringValue == nil {
                    causes.append(VirtError.Cause(message: "Invalid value: annotation values must be strings", field: "metadata.annotations[\(key)]"))
                }
            } else {
                causes.append(VirtError.Cause(message: "Invalid value: must be an object of strings", field: "metadata.annotations"))
            }
        }
        if let finalizers = object[path: ["metadata", "finalizers"]], finalizers.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            causes.append(VirtError.Cause(message: "Invalid value: must be a list of strings", field: "metadata.finalizers"))
        }
        return causes
    }
}
