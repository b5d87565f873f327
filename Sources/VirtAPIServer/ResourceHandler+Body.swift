import VirtAPI
import VirtError

extension ResourceHandler {
    /// Parses a create/update body (JSON, or YAML by content type) and checks it names this kind.
    func decodeBody(_ request: APIRequest, target: RequestTarget) throws -> JSONValue {
        let body = try Self.parseBody(request.body, contentType: request.contentType, registry: registry)
        try Self.checkTypeMeta(body, type: target.type)
        return body
    }

    static func parseBody(_ bytes: [UInt8], contentType: String, registry: Registry = .standard) throws -> JSONValue {
        let value: JSONValue
        // Media types are ASCII; a byte search, not Foundation's locale-aware one.
        if contentType.utf8.firstRange(of: "protobuf".utf8) != nil {
            value = try ProtobufBody.decode(bytes, registry: registry)
        } else if contentType.utf8.firstRange(of: "yaml".utf8) != nil {
            value = try JSONValue.parseYAML(String(decoding: bytes, as: UTF8.self))
        } else {
            value = try JSONValue.parse(bytes)
        }
        guard value.objectValue != nil else {
            throw VirtError(.badRequest, "the body must be a JSON object, not \(value.typeName)")
        }
        return value
    }

    /// `apiVersion` and `kind` of a body, when present, must be those of the endpoint.
    static func checkTypeMeta(_ body: JSONValue, type: ResourceType) throws {
        if let apiVersion = body["apiVersion"], apiVersion.stringValue != type.apiVersion {
            throw VirtError(.badRequest, "the API version in the data (\(apiVersion.stringValue ?? apiVersion.serialized())) does not match the expected API version (\(type.apiVersion))")
        }
        if let kind = body["kind"], kind.stringValue != type.kind {
            throw VirtError(.badRequest, "the kind in the data (\(kind.stringValue ?? kind.serialized())) does not match the expected kind (\(type.kind)) for \(type.qualifiedName)")
        }
    }

    // MARK: - Patch

    /// PATCH with merge, JSON, strategic (core kinds only, with merge semantics) or apply patches.
    func patch(_ request: APIRequest, target: RequestTarget, name: String, subresource: String?, dryRun: Bool) async throws -> APIResponse {
        let type = target.type
        let contentType = request.contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let fieldValidation = request.query["fieldValidation"]
        switch contentType {
        case "application/merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml", "application/apply-patch+json":
            break
        case "application/strategic-merge-patch+json" where type.group.isEmpty:
            break
        default:
            throw VirtError(.unsupported, "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                + (type.group.isEmpty ? ", application/strategic-merge-patch+json" : ""))
        }
        let isApply = contentType.hasPrefix("application/apply-patch")
        let patch: JSONValue
        if contentType == "application/apply-patch+yaml" {
            patch = try JSONValue.parseYAML(String(decoding: request.body, as: UTF8.self))
        } else {
            patch = try JSONValue.parse(request.body)
        }
        if isApply {
            guard patch.objectValue != nil else { throw VirtError(.badRequest, "an apply patch must be an object") }
            try Self.checkTypeMeta(patch, type: type)
            if let bodyName = patch.metaName, bodyName != name {
                throw VirtError(.badRequest, "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
            }
        }
        // Patches without a resourceVersion of their own retry on conflict, as Kubernetes does.
        for attempt in 0..<8 {
            let current: JSONValue
            do {
                current = try await fetch(target, name: name)
            } catch let error as VirtError where error.code == .notFound && isApply && subresource == nil {
                var body = patch
                body[path: ["metadata", "name"]] = .string(name)
                let (object, warnings) = try await create(body, target: target, fieldValidation: fieldValidation, dryRun: dryRun)
                return .json(object, status: 201, warnings: warnings)
            }
            var patched: JSONValue
            switch contentType {
            case "application/json-patch+json":
                patched = try current.applyingJSONPatch(patch)
            case "application/strategic-merge-patch+json":
                patched = current.applyingStrategicMergePatch(patch)
            default:
                guard patch.objectValue != nil else { throw VirtError(.badRequest, "a merge patch must be a JSON object") }
                patched = current.applyingMergePatch(patch)
            }
            if patched.metaResourceVersion == nil || isApply {
                patched[path: ["metadata", "resourceVersion"]] = current[path: ["metadata", "resourceVersion"]]
            }
            try Self.checkTypeMeta(patched, type: type)
            let pinned = patch[path: ["metadata", "resourceVersion"]] != nil && !isApply
            do {
                let (object, warnings) = try await update(target, name: name, proposed: patched, subresource: subresource,
                                                          fieldValidation: fieldValidation, dryRun: dryRun)
                return .json(object, warnings: warnings)
            } catch let error as VirtError where error.code == .conflict && !pinned && attempt < 7 {
                continue
            }
        }
        throw conflict(type, name)
    }
}

extension JSONValue {
    /// Strategic merge patch for core kinds, reduced to merge semantics: `$` directives are dropped and
    /// lists of objects with `name` merge by name.
    func applyingStrategicMergePatch(_ patch: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = objectValue ?? [:]
        for (key, value) in patchObject {
            if key.hasPrefix("$") { continue }
            if value == .null {
                result[key] = nil
            } else if case .object = value {
                result[key] = (result[key] ?? .object([:])).applyingStrategicMergePatch(value)
            } else if case .array(let items) = value, case .array(let existing)? = result[key],
                      items.allSatisfy({ $0["name"]?.stringValue != nil }), existing.allSatisfy({ $0["name"]?.stringValue != nil })
            {
                var merged = existing
                for item in items {
                    if let index = merged.firstIndex(where: { $0["name"] == item["name"] }) {
                        if item["$patch"]?.stringValue == "delete" {
                            merged.remove(at: index)
                        } else {
                            merged[index] = merged[index].applyingStrategicMergePatch(item)
                        }
                    } else if item["$patch"]?.stringValue != "delete" {
                        merged.append(JSONValue.object([:]).applyingStrategicMergePatch(item))
                    }
                }
                result[key] = .array(merged)
            } else {
                result[key] = value
            }
        }
        return .object(result)
    }
}
