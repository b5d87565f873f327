import VirtAPI

/// Reads typed members of one JSON object, naming the member's full path (`plugins[0].ipam.type`) in
/// every error; `failure` decides which `CNIError` a wrong member becomes.
struct CNIFieldReader {
    let members: [String: JSONValue]
    let path: String
    let failure: (_ field: String, _ reason: String) -> CNIError

    /// `value` as an object, or the failure naming `path`.
    init(_ value: JSONValue, at path: String, failure: @escaping (_ field: String, _ reason: String) -> CNIError) throws(CNIError) {
        guard let members = value.objectValue else {
            throw failure(path, (path.isEmpty ? "the document " : "") + "must be a JSON object, not \(value.typeName)")
        }
        self.members = members
        self.path = path
        self.failure = failure
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member, nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = members[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws(CNIError) -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value.stringValue else { throw failure(field(key), "must be a string, not \(value.typeName)") }
        return string
    }

    func requiredString(_ key: String) throws(CNIError) -> String {
        guard let string = try string(key) else { throw failure(field(key), "is required") }
        return string
    }

    func int(_ key: String) throws(CNIError) -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.intValue, let int = Int(exactly: number) else {
            throw failure(field(key), "must be an integer, not \(value.typeName == "number" ? "\(value.serialized())" : value.typeName)")
        }
        return int
    }

    func bool(_ key: String) throws(CNIError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let bool = value.boolValue else { throw failure(field(key), "must be true or false, not \(value.typeName)") }
        return bool
    }

    func array(_ key: String) throws(CNIError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard let array = value.arrayValue else { throw failure(field(key), "must be a list, not \(value.typeName)") }
        return array
    }

    func stringArray(_ key: String) throws(CNIError) -> [String] {
        var strings: [String] = []
        for (index, element) in (try array(key) ?? []).enumerated() {
            guard let string = element.stringValue else {
                throw failure("\(field(key))[\(index)]", "must be a string, not \(element.typeName)")
            }
            strings.append(string)
        }
        return strings
    }

    /// The member as an object reader, nil when absent or null.
    func object(_ key: String) throws(CNIError) -> CNIFieldReader? {
        guard let value = value(key) else { return nil }
        return try CNIFieldReader(value, at: field(key), failure: failure)
    }

    /// Each element of the list member as an object reader.
    func objects(_ key: String) throws(CNIError) -> [CNIFieldReader] {
        var readers: [CNIFieldReader] = []
        for (index, element) in (try array(key) ?? []).enumerated() {
            readers.append(try CNIFieldReader(element, at: "\(field(key))[\(index)]", failure: failure))
        }
        return readers
    }
}
