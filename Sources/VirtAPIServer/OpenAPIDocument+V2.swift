import VirtAPI

/// `/openapi/v2`: one swagger 2.0 document for every group/version, the one kubectl validates `kind: List`
/// items and kinds it cannot find in v3 against, and that client-go's `OpenAPISchema()` reads as protobuf.
extension OpenAPIDocument {
    /// The swagger 2.0 document as JSON.
    func swagger() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var definitions = OpenAPISchemas.shared(style: .v2)
        for type in registry.types {
            definitions.merge(OpenAPISchemas.kind(type, style: .v2)) { current, _ in current }
            for item in OpenAPIPathItem.items(for: type) {
                paths[item.path] = Self.pathItemV2(item)
            }
        }
        return [
            "swagger": "2.0",
            "info": ["title": "SwiftVirt", "version": .string(APIRouter.kubernetesVersion.git)],
            "paths": .object(paths),
            "definitions": .object(definitions),
            "securityDefinitions": ["BearerToken": ["type": "apiKey", "name": "authorization", "in": "header",
                                                    "description": "Bearer Token authentication"]],
            "security": [["BearerToken": []]],
        ]
    }

    /// A swagger 2.0 non-body parameter: the type sits on the parameter itself.
    static func parameterV2(_ parameter: OpenAPIPathItem.Parameter) -> JSONValue {
        var entry: [String: JSONValue] = [
            "name": .string(parameter.name), "in": .string(parameter.location.rawValue),
            "description": .string(parameter.description), "type": .string(parameter.type), "uniqueItems": true,
        ]
        if parameter.required { entry["required"] = true }
        return .object(entry)
    }

    /// A swagger 2.0 Path Item: the path's parameters, then each operation with its GVK, its body as an
    /// `in: body` parameter, the media types it consumes and its responses.
    static func pathItemV2(_ item: OpenAPIPathItem) -> JSONValue {
        var entry: [String: JSONValue] = ["parameters": .array(item.parameters.map(parameterV2))]
        let type = item.type
        let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
        for operation in item.operations {
            let answer: JSONValue = ["$ref": .string(OpenAPISchemas.reference(operation.answer, type: type, style: .v2))]
            var responses: [String: JSONValue] = [:]
            for (code, description) in operation.successes {
                responses[code] = ["description": .string(description), "schema": answer]
            }
            responses["401"] = ["description": "Unauthorized"]
            var parameters = operation.parameters.map(parameterV2)
            var consumes: [JSONValue] = ["application/json"]
            switch operation.body {
            case .object?:
                let schema: JSONValue = ["$ref": .string(OpenAPISchemas.reference(.object, type: type, style: .v2))]
                parameters.insert(["name": "body", "in": "body", "required": true, "schema": schema], at: 0)
            case .patch?:
                let schema: JSONValue = ["$ref": .string(OpenAPISchemas.prefix(.v2) + OpenAPISchemas.patch)]
                parameters.insert(["name": "body", "in": "body", "required": true, "schema": schema], at: 0)
                consumes = OpenAPISchemas.patchMediaTypes.map { .string($0) }
            case .deleteOptions?:
                let schema: JSONValue = ["$ref": .string(OpenAPISchemas.prefix(.v2) + OpenAPISchemas.deleteOptions)]
                parameters.insert(["name": "body", "in": "body", "schema": schema], at: 0)
            case nil:
                consumes = ["*/*"]
            }
            entry[operation.method] = [
                "operationId": .string(operation.id), "description": .string(operation.description),
                "tags": [.string(OpenAPISchemas.tag(type))], "consumes": .array(consumes), "produces": ["application/json"],
                "schemes": ["https"], "x-kubernetes-action": .string(operation.action), "x-kubernetes-group-version-kind": gvk,
                "parameters": .array(parameters), "responses": .object(responses),
            ]
        }
        return .object(entry)
    }
}
