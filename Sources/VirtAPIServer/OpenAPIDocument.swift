import VirtAPI

/// The OpenAPI documents kubectl reads before `apply`, `create` and `explain`, and that API tools (client
/// generators, fuzzers) read: v3 per group/version (this file) and one swagger 2.0 document
/// (`+V2`). Both declare, as Kubernetes' do, every path with its path and query parameters, each
/// operation with `x-kubernetes-group-version-kind` (kubectl then leaves validation to the server, which
/// takes `fieldValidation`), and a schema per kind.
struct OpenAPIDocument: Sendable {
    let registry: Registry

    /// `api/v1` or `apis/GROUP/VERSION`: a group/version's path under `/openapi/v3/`.
    static func path(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// The `/openapi/v3` index: where each group/version's document is, its URL carrying `hashes[path]`
    /// (clients cache a document by its URL, so a changed document must get a new one).
    func index(hashes: [String: String]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for (group, version) in registry.groupVersions {
            let path = Self.path(group: group, version: version)
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hashes[path] ?? "")")]
        }
        return ["paths": .object(paths)]
    }

    /// The v3 document of one group/version; `nil` when the server serves none of its kinds.
    func document(group: String, version: String) -> JSONValue? {
        let types = registry.resources(group: group, version: version)
        if types.isEmpty { return nil }
        var paths: [String: JSONValue] = [:]
        var schemas = OpenAPISchemas.shared(style: .v3)
        for type in types {
            schemas.merge(OpenAPISchemas.kind(type, style: .v3)) { current, _ in current }
            for item in OpenAPIPathItem.items(for: type) {
                paths[item.path] = Self.pathItemV3(item)
            }
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "SwiftVirt", "version": .string(APIRouter.kubernetesVersion.git)],
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "securitySchemes": ["BearerToken": ["type": "apiKey", "name": "authorization", "in": "header",
                                                    "description": "Bearer token authentication"]],
            ],
            "security": [["BearerToken": []]],
        ]
    }

    /// A v3 Parameter Object: the type goes in `schema`.
    static func parameterV3(_ parameter: OpenAPIPathItem.Parameter) -> JSONValue {
        var entry: [String: JSONValue] = [
            "name": .string(parameter.name), "in": .string(parameter.location.rawValue),
            "description": .string(parameter.description),
            "schema": ["type": .string(parameter.type), "uniqueItems": true],
        ]
        if parameter.required { entry["required"] = true }
        return .object(entry)
    }

    /// A v3 Path Item Object: the path's parameters, then each operation with its GVK, query parameters,
    /// request body (by media type) and responses.
    static func pathItemV3(_ item: OpenAPIPathItem) -> JSONValue {
        var entry: [String: JSONValue] = ["parameters": .array(item.parameters.map(parameterV3))]
        let type = item.type
        let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
        for operation in item.operations {
            let answer: JSONValue = ["$ref": .string(OpenAPISchemas.reference(operation.answer, type: type, style: .v3))]
            var responses: [String: JSONValue] = [:]
            for (code, description) in operation.successes {
                responses[code] = ["description": .string(description), "content": ["application/json": ["schema": answer]]]
            }
            responses["401"] = ["description": "Unauthorized"]
            var op: [String: JSONValue] = [
                "operationId": .string(operation.id), "description": .string(operation.description),
                "tags": [.string(OpenAPISchemas.tag(type))],
                "x-kubernetes-action": .string(operation.action), "x-kubernetes-group-version-kind": gvk,
                "parameters": .array(operation.parameters.map(parameterV3)), "responses": .object(responses),
            ]
            switch operation.body {
            case .object?:
                let schema: JSONValue = ["$ref": .string(OpenAPISchemas.reference(.object, type: type, style: .v3))]
                op["requestBody"] = ["required": true, "content": ["application/json": ["schema": schema]]]
            case .patch?:
                let schema: JSONValue = ["$ref": .string(OpenAPISchemas.prefix(.v3) + OpenAPISchemas.patch)]
                op["requestBody"] = ["required": true, "content": .object(Dictionary(uniqueKeysWithValues: OpenAPISchemas.patchMediaTypes.map {
                    ($0, ["schema": schema])
                }))]
            case .deleteOptions?:
                let schema: JSONValue = ["$ref": .string(OpenAPISchemas.prefix(.v3) + OpenAPISchemas.deleteOptions)]
                op["requestBody"] = ["content": ["application/json": ["schema": schema]]]
            case nil:
                break
            }
            entry[operation.method] = .object(op)
        }
        return .object(entry)
    }
}
