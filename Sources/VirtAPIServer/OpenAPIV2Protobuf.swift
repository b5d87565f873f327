import VirtAPI

/// The swagger 2.0 document in the protobuf encoding client-go's `OpenAPISchema()` asks for
/// (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): the `openapi.v2.Document`
/// message of gnostic's OpenAPIv2.proto, written from the JSON document with that file's field numbers.
/// Only the parts the JSON document uses are written. Vendor extensions (`x-…`) become
/// `NamedAny{name, Any{yaml}}` with the value as YAML text, which is how Kubernetes sends them.
enum OpenAPIV2Protobuf {
    /// The media type kubectl asks for (`…spec.v2@v1.0+protobuf`, whose `@` Go's MIME parser refuses)
    /// or its newer spelling; either way the answer carries the newer one, as Kubernetes' does.
    static let mediaType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    /// `true` when an Accept header asks for the protobuf document.
    static func accepted(by accept: String) -> Bool {
        accept.contains("application/com.github.proto-openapi.spec.v2@v1.0+protobuf") || accept.contains(mediaType)
    }

    /// `openapi.v2.Document`.
    static func document(_ swagger: JSONValue) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.string(1, swagger["swagger"]?.stringValue ?? "2.0")
        if let value = swagger["info"] {
            writer.message(2) { info(&$0, value) }
        }
        writer.strings(5, strings(swagger["schemes"]))
        writer.strings(6, strings(swagger["consumes"]))
        writer.strings(7, strings(swagger["produces"]))
        if let paths = swagger["paths"]?.objectValue {
            writer.message(8) { w in
                for key in paths.keys.sorted() {
                    guard let item = paths[key] else { continue }
                    w.message(2) { named in
                        named.string(1, key)
                        named.message(2) { pathItem(&$0, item) }
                    }
                }
            }
        }
        if let definitions = swagger["definitions"]?.objectValue {
            writer.message(9) { w in namedSchemas(&w, field: 1, definitions) }
        }
        for requirement in swagger["security"]?.arrayValue ?? [] {
            writer.message(12) { w in
                for (name, scopes) in (requirement.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    w.message(1) { named in
                        named.string(1, name)
                        named.message(2) { $0.strings(1, strings(scopes)) }
                    }
                }
            }
        }
        if let definitions = swagger["securityDefinitions"]?.objectValue {
            writer.message(13) { w in
                for (name, definition) in definitions.sorted(by: { $0.key < $1.key }) where definition["type"]?.stringValue == "apiKey" {
                    w.message(1) { named in
                        named.string(1, name)
                        // SecurityDefinitionsItem.api_key_security = 2: ApiKeySecurity{type, name, in, description}.
                        named.message(2) { item in
                            item.message(2) { key in
                                key.string(1, "apiKey")
                                key.string(2, definition["name"]?.stringValue ?? "")
                                key.string(3, definition["in"]?.stringValue ?? "")
                                key.string(4, definition["description"]?.stringValue ?? "")
                            }
                        }
                    }
                }
            }
        }
        vendorExtensions(&writer, field: 16, swagger)
        return writer.bytes
    }

    /// The strings of a JSON array (others are skipped).
    static func strings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// `Info`: title 1, version 2, description 3, vendor_extension 7.
    static func info(_ writer: inout ProtobufWriter, _ info: JSONValue) {
        writer.string(1, info["title"]?.stringValue ?? "")
        writer.string(2, info["version"]?.stringValue ?? "")
        writer.string(3, info["description"]?.stringValue ?? "")
        vendorExtensions(&writer, field: 7, info)
    }

    /// `PathItem`: get 2, put 3, post 4, delete 5, options 6, head 7, patch 8, parameters 9, vendor_extension 10.
    static func pathItem(_ writer: inout ProtobufWriter, _ item: JSONValue) {
        let methods = [("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("options", 6), ("head", 7), ("patch", 8)]
        for (method, field) in methods {
            guard let op = item[method] else { continue }
            writer.message(field) { operation(&$0, op) }
        }
        for parameter in item["parameters"]?.arrayValue ?? [] {
            writer.message(9) { parametersItem(&$0, parameter) }
        }
        vendorExtensions(&writer, field: 10, item)
    }

    /// `Operation`: tags 1, summary 2, description 3, operation_id 5, produces 6, consumes 7,
    /// parameters 8, responses 9, schemes 10, deprecated 11, vendor_extension 13.
    static func operation(_ writer: inout ProtobufWriter, _ op: JSONValue) {
        writer.strings(1, strings(op["tags"]))
        writer.string(2, op["summary"]?.stringValue ?? "")
        writer.string(3, op["description"]?.stringValue ?? "")
        writer.string(5, op["operationId"]?.stringValue ?? "")
        writer.strings(6, strings(op["produces"]))
        writer.strings(7, strings(op["consumes"]))
        for parameter in op["parameters"]?.arrayValue ?? [] {
            writer.message(8) { parametersItem(&$0, parameter) }
        }
        if let responses = op["responses"]?.objectValue {
            // Responses: response_code 1 (NamedResponseValue{name, ResponseValue{response 1}}).
            writer.message(9) { w in
                for (code, response) in responses.sorted(by: { $0.key < $1.key }) {
                    w.message(1) { named in
                        named.string(1, code)
                        named.message(2) { value in value.message(1) { self.response(&$0, response) } }
                    }
                }
            }
        }
        writer.strings(10, strings(op["schemes"]))
        writer.bool(11, op["deprecated"]?.boolValue ?? false)
        vendorExtensions(&writer, field: 13, op)
    }

    /// `Response`: description 1, schema 2 (SchemaItem{schema 1}), vendor_extension 5.
    static func response(_ writer: inout ProtobufWriter, _ response: JSONValue) {
        writer.string(1, response["description"]?.stringValue ?? "")
        if let schema = response["schema"] {
            writer.message(2) { item in item.message(1) { self.schema(&$0, schema) } }
        }
        vendorExtensions(&writer, field: 5, response)
    }

    /// `ParametersItem`: parameter 1 or json_reference 2. A `Parameter` is body_parameter 1 or
    /// non_body_parameter 2, whose sub-schema depends on `in` (header 1, formData 2, query 3, path 4).
    static func parametersItem(_ writer: inout ProtobufWriter, _ parameter: JSONValue) {
        if let reference = parameter["$ref"]?.stringValue {
            writer.message(2) { $0.string(1, reference) }
            return
        }
        let location = parameter["in"]?.stringValue ?? ""
        writer.message(1) { w in
            if location == "body" {
                // BodyParameter: description 1, name 2, in 3, required 4, schema 5, vendor_extension 6.
                w.message(1) { body in
                    body.string(1, parameter["description"]?.stringValue ?? "")
                    body.string(2, parameter["name"]?.stringValue ?? "")
                    body.string(3, location)
                    body.bool(4, parameter["required"]?.boolValue ?? false)
                    if let schema = parameter["schema"] { body.message(5) { self.schema(&$0, schema) } }
                    vendorExtensions(&body, field: 6, parameter)
                }
                return
            }
            w.message(2) { nonBody in
                switch location {
                case "query", "formData":
                    // Query/FormData sub-schemas: required 1, in 2, description 3, name 4, allow_empty_value 5,
                    // type 6, format 7, unique_items 20, vendor_extension 23.
                    nonBody.message(location == "query" ? 3 : 2) { sub in
                        sub.bool(1, parameter["required"]?.boolValue ?? false)
                        sub.string(2, location)
                        sub.string(3, parameter["description"]?.stringValue ?? "")
                        sub.string(4, parameter["name"]?.stringValue ?? "")
                        sub.string(6, parameter["type"]?.stringValue ?? "")
                        sub.string(7, parameter["format"]?.stringValue ?? "")
                        sub.bool(20, parameter["uniqueItems"]?.boolValue ?? false)
                        vendorExtensions(&sub, field: 23, parameter)
                    }
                default:
                    // Path/Header sub-schemas: required 1, in 2, description 3, name 4, type 5, format 6,
                    // unique_items 19, vendor_extension 22.
                    nonBody.message(location == "header" ? 1 : 4) { sub in
                        sub.bool(1, parameter["required"]?.boolValue ?? false)
                        sub.string(2, location)
                        sub.string(3, parameter["description"]?.stringValue ?? "")
                        sub.string(4, parameter["name"]?.stringValue ?? "")
                        sub.string(5, parameter["type"]?.stringValue ?? "")
                        sub.string(6, parameter["format"]?.stringValue ?? "")
                        sub.bool(19, parameter["uniqueItems"]?.boolValue ?? false)
                        vendorExtensions(&sub, field: 22, parameter)
                    }
                }
            }
        }
    }

    /// `NamedSchema` entries (name 1, Schema 2) of `Definitions` or `Properties`, sorted by name.
    static func namedSchemas(_ writer: inout ProtobufWriter, field: Int, _ schemas: [String: JSONValue]) {
        for name in schemas.keys.sorted() {
            guard let value = schemas[name] else { continue }
            writer.message(field) { named in
                named.string(1, name)
                named.message(2) { schema(&$0, value) }
            }
        }
    }

    /// `Schema`: _ref 1, format 2, title 3, description 4, default 5, maximum 7, minimum 9, max_length 11,
    /// min_length 12, pattern 13, max_items 14, min_items 15, unique_items 16, required 19, enum 20,
    /// additional_properties 21, type 22, items 23, all_of 24, properties 25, read_only 27, example 30,
    /// vendor_extension 31.
    static func schema(_ writer: inout ProtobufWriter, _ schema: JSONValue) {
        writer.string(1, schema["$ref"]?.stringValue ?? "")
        writer.string(2, schema["format"]?.stringValue ?? "")
        writer.string(3, schema["title"]?.stringValue ?? "")
        writer.string(4, schema["description"]?.stringValue ?? "")
        if let value = schema["default"] { writer.message(5) { any(&$0, value) } }
        if let value = schema["maximum"]?.doubleValue { writer.double(7, value) }
        if let value = schema["minimum"]?.doubleValue { writer.double(9, value) }
        writer.int64(11, schema["maxLength"]?.intValue ?? 0)
        writer.int64(12, schema["minLength"]?.intValue ?? 0)
        writer.string(13, schema["pattern"]?.stringValue ?? "")
        writer.int64(14, schema["maxItems"]?.intValue ?? 0)
        writer.int64(15, schema["minItems"]?.intValue ?? 0)
        writer.bool(16, schema["uniqueItems"]?.boolValue ?? false)
        writer.strings(19, strings(schema["required"]))
        for value in schema["enum"]?.arrayValue ?? [] {
            writer.message(20) { any(&$0, value) }
        }
        switch schema["additionalProperties"] {
        case .bool(let allowed)?:
            // A oneof member is written even when it holds the default.
            writer.message(21) { w in
                w.tag(2, .varint)
                w.varint(allowed ? 1 : 0)
            }
        case let value? where value.objectValue != nil:
            writer.message(21) { w in w.message(1) { self.schema(&$0, value) } }
        default:
            break
        }
        if let type = schema["type"]?.stringValue {
            writer.message(22) { $0.strings(1, [type]) }
        }
        if let items = schema["items"] {
            writer.message(23) { w in
                for item in items.arrayValue ?? [items] {
                    w.message(1) { self.schema(&$0, item) }
                }
            }
        }
        for member in schema["allOf"]?.arrayValue ?? [] {
            writer.message(24) { self.schema(&$0, member) }
        }
        if let properties = schema["properties"]?.objectValue {
            writer.message(25) { namedSchemas(&$0, field: 1, properties) }
        }
        writer.bool(27, schema["readOnly"]?.boolValue ?? false)
        if let value = schema["example"] { writer.message(30) { any(&$0, value) } }
        vendorExtensions(&writer, field: 31, schema)
    }

    /// `Any`: yaml 2, the value as YAML text.
    static func any(_ writer: inout ProtobufWriter, _ value: JSONValue) {
        writer.string(2, value.yamlText())
    }

    /// Every `x-…` member of `object` as a `NamedAny` (name 1, Any 2) in `field`, sorted by name.
    static func vendorExtensions(_ writer: inout ProtobufWriter, field: Int, _ object: JSONValue) {
        guard let members = object.objectValue else { return }
        for name in members.keys.sorted() where name.hasPrefix("x-") {
            guard let value = members[name] else { continue }
            writer.message(field) { named in
                named.string(1, name)
                named.message(2) { any(&$0, value) }
            }
        }
    }
}
