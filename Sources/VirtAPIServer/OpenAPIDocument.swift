import VirtAPI

/// The OpenAPI v3 documents kubectl reads before `apply`, `create` and `explain`: per group/version, the
/// paths (with `x-kubernetes-group-version-kind` and the `fieldValidation` parameter, so kubectl leaves
/// validation to the server) and a schema per kind.
struct OpenAPIDocument: Sendable {
    let registry: Registry

    static func path(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    func index() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for (group, version) in registry.groupVersions {
            let path = Self.path(group: group, version: version)
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(Self.hash)")]
        }
        return ["paths": .object(paths)]
    }

    /// Changes when the server's kinds change, so clients refresh their cache.
    static let hash = "swiftvirt-1"

    static func schemaName(_ type: ResourceType) -> String {
        let groupPart = type.group.isEmpty ? "io.k8s.api.core" : type.group.split(separator: ".").reversed().joined(separator: ".")
        return "\(groupPart).\(type.version).\(type.kind)"
    }

    func document(group: String, version: String) -> JSONValue? {
        let types = registry.resources(group: group, version: version)
        if types.isEmpty { return nil }
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        let prefix = "/" + Self.path(group: group, version: version)
        for type in types {
            let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            let ref: JSONValue = ["$ref": .string("#/components/schemas/\(Self.schemaName(type))")]
            let body: JSONValue = ["content": ["application/json": ["schema": ref]]]
            let ok: JSONValue = ["200": ["description": "OK", "content": ["application/json": ["schema": ref]]]]
            let parameters: JSONValue = [
                ["name": "dryRun", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]],
            ]
            func operation(_ id: String, body include: Bool) -> JSONValue {
                var op: [String: JSONValue] = [
                    "operationId": .string(id + type.kind), "x-kubernetes-group-version-kind": gvk,
                    "parameters": parameters, "responses": ok,
                ]
                if include { op["requestBody"] = body }
                return .object(op)
            }
            let collection = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)" : "\(prefix)/\(type.plural)"
            paths[collection] = ["post": operation("create", body: true), "get": operation("list", body: false)]
            paths["\(collection)/{name}"] = [
                "get": operation("read", body: false), "put": operation("replace", body: true),
                "patch": operation("patch", body: true), "delete": operation("delete", body: false),
            ]
            schemas[Self.schemaName(type)] = [
                "type": "object",
                "description": .string("\(type.kind) (\(type.apiVersion))."),
                "x-kubernetes-group-version-kind": [gvk],
                "properties": [
                    "apiVersion": ["type": "string", "description": "The versioned schema of this representation of an object."],
                    "kind": ["type": "string", "description": "The REST resource this object represents."],
                    "metadata": ["type": "object", "description": "Standard object metadata.", "x-kubernetes-preserve-unknown-fields": true],
                    "spec": ["type": "object", "description": .string("The desired state of the \(type.kind)."), "x-kubernetes-preserve-unknown-fields": true],
                    "status": ["type": "object", "description": .string("The observed state of the \(type.kind)."), "x-kubernetes-preserve-unknown-fields": true],
                ],
            ]
        }
        return [
            "openapi": "3.0.0", "info": ["title": "SwiftVirt", "version": .string(version)],
            "paths": .object(paths), "components": ["schemas": .object(schemas)],
        ]
    }
}
