import Foundation
import VirtAPI
import VirtError
import VirtStore

/// Kubernetes REST semantics for every registered kind: get, list, create, update, patch, delete,
/// deletecollection and watch, over a `RevisionedStore`.
public struct ResourceHandler: Sendable {
    public let store: any RevisionedStore
    public let registry: Registry

    public init(store: any RevisionedStore, registry: Registry = .standard) {
        self.store = store
        self.registry = registry
    }

    func handle(_ request: APIRequest, target: RequestTarget) async throws -> APIResponse {
        let dryRun = request.query["dryRun"] == "All"
        if let dryRunValue = request.query["dryRun"], dryRunValue != "All" {
            throw VirtError(.badRequest, "dryRun: unsupported value \"\(dryRunValue)\": supported values: \"All\"")
        }
        switch (request.method, target.name, target.subresource) {
        case ("GET", nil, _):
            if request.flag("watch") { return try await watch(request, target: target) }
            return try await list(request, target: target)
        case ("GET", let name?, _):
            let object = try await fetch(target, name: name)
            return request.wantsTable ? .json(table(for: target.type, objects: [object], revision: nil)) : .json(object)
        case ("POST", nil, nil):
            let body = try decodeBody(request, target: target)
            let (stored, warnings) = try await createStored(body, target: target, fieldValidation: request.query["fieldValidation"], dryRun: dryRun)
            if let json = stored.objectJSON { return .json(bytes: Array(json.utf8), status: 201, warnings: warnings) }
            return .json(stored.object, status: 201, warnings: warnings)
        case ("POST", let name?, "eviction"):
            return try await evict(target: target, name: name, dryRun: dryRun)
        case ("PUT", let name?, let subresource):
            let body = try decodeBody(request, target: target)
            let (object, warnings) = try await update(target, name: name, proposed: body, subresource: subresource,
                                                      fieldValidation: request.query["fieldValidation"], dryRun: dryRun)
            return .json(object, warnings: warnings)
        case ("PATCH", let name?, let subresource):
            return try await patch(request, target: target, name: name, subresource: subresource, dryRun: dryRun)
        case ("DELETE", let name?, nil):
            let options = try deleteOptions(request)
            return .json(try await delete(target, name: name, options: options, dryRun: dryRun))
        case ("DELETE", nil, nil):
            return try await deleteCollection(request, target: target, dryRun: dryRun)
        default:
            throw VirtError(.methodNotAllowed, "the server does not allow this method on the requested resource")
        }
    }

    // MARK: - Reads

    func fetch(_ target: RequestTarget, name: String) async throws -> JSONValue {
        guard let stored = try await store.get(target.key(name: name)) else {
            throw notFound(target.type, name)
        }
        return stored.object
    }

    func list(_ request: APIRequest, target: RequestTarget) async throws -> APIResponse {
        let filter = try selectorFilter(request, type: target.type)
        let limit = Int(request.query["limit"] ?? "") ?? 0
        var startAfter: StoreKey?
        if let token = request.query["continue"], !token.isEmpty {
            startAfter = try ContinueToken.decode(token, resource: target.type.storeResource)
        }
        let page = try await store.list(
            StoreScope(resource: target.type.storeResource, namespace: target.namespace),
            startAfter: startAfter, limit: max(0, limit), filter: filter)
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(page.revision))]
        if let next = page.continueAfter {
            metadata["continue"] = .string(ContinueToken.encode(next))
        }
        if request.wantsTable {
            var table = table(for: target.type, objects: page.items.map(\.object), revision: page.revision)
            table["metadata"] = .object(metadata)
            return .json(table)
        }
        return .json([
            "kind": .string(target.type.listKind), "apiVersion": .string(target.type.apiVersion),
            "metadata": .object(metadata), "items": .array(page.items.map(\.object)),
        ])
    }

    /// Label and field selectors of a request as one predicate (`nil` when neither is given).
    func selectorFilter(_ request: APIRequest, type: ResourceType) throws -> (@Sendable (JSONValue) -> Bool)? {
        let labelText = request.query["labelSelector"] ?? ""
        let fieldText = request.query["fieldSelector"] ?? ""
        if labelText.isEmpty, fieldText.isEmpty { return nil }
        let labels = try LabelSelector(parsing: labelText)
        let fields = try FieldSelector(parsing: fieldText, supportedFields: type.supportedFieldSelectors)
        // A watch runs this for every event and watcher: an empty half is not evaluated at all (reading the
        // labels builds a dictionary).
        if labelText.isEmpty { return { object in fields.matches(object) } }
        if fieldText.isEmpty { return { object in labels.matches(object.metaLabels) } }
        return { object in labels.matches(object.metaLabels) && fields.matches(object) }
    }

    // MARK: - Create

    func create(_ body: JSONValue, target: RequestTarget, fieldValidation: String?, dryRun: Bool) async throws -> (JSONValue, [String]) {
        let (stored, warnings) = try await createStored(body, target: target, fieldValidation: fieldValidation, dryRun: dryRun)
        return (stored.object, warnings)
    }

    /// Creates after admission. The namespace is checked inside the store's transaction, so a namespace
    /// deleted meanwhile cannot end up with new content; the answer carries the JSON the store wrote.
    func createStored(_ body: JSONValue, target: RequestTarget, fieldValidation: String?, dryRun: Bool) async throws -> (StoredObject, [String]) {
        let type = target.type
        var object = type.normalized(body)
        var metadata = object["metadata"]?.objectValue ?? [:]
        // Namespace: the path decides; a body that names another one is refused.
        var namespaceCheck: StorePrecondition?
        if type.namespaced {
            guard let namespace = target.namespace else {
                throw VirtError(.badRequest, "a namespace is required to create \(type.qualifiedName): use /namespaces/NAMESPACE/\(type.plural)")
            }
            if let bodyNamespace = metadata["namespace"]?.stringValue, !bodyNamespace.isEmpty, bodyNamespace != namespace {
                throw VirtError(.badRequest, "the namespace of the provided object (\(bodyNamespace)) does not match the namespace sent on the request (\(namespace))")
            }
            metadata["namespace"] = .string(namespace)
            namespaceCheck = namespacePrecondition(namespace)
        } else {
            metadata["namespace"] = nil
        }
        let name: String
        let warnings: [String]
        do {
            name = try createName(metadata, type: type)
            metadata["name"] = .string(name)
            metadata["uid"] = .string(ObjectUID.make())
            metadata["creationTimestamp"] = .string(Timestamp.now())
            metadata["generation"] = .int(1)
            metadata["resourceVersion"] = nil
            metadata["deletionTimestamp"] = nil
            metadata["deletionGracePeriodSeconds"] = nil
            metadata["selfLink"] = nil
            object["metadata"] = .object(metadata)
            if type.hasStatus, type.group != "" { object["status"] = nil }
            if type.kind == "Namespace" {
                object[path: ["status", "phase"]] = "Active"
                if object[path: ["spec", "finalizers"]] == nil { object[path: ["spec", "finalizers"]] = ["kubernetes"] }
            }
            let mode = try fieldValidationMode(fieldValidation)
            type.applyDefaults(&object)
            let review = type.review(object, old: nil)
            warnings = try checkFields(review.unknownFields, type: type, name: name, mode: mode)
            try validate(object, causes: review.causes, type: type, name: name)
        } catch {
            // A missing or terminating namespace is reported before anything wrong with the object.
            try await checkNow(namespaceCheck)
            throw error
        }
        if dryRun {
            try await checkNow(namespaceCheck)
            return (StoredObject(key: target.key(name: name), revision: 0, object: object), warnings)
        }
        do {
            return (try await store.create(target.key(name: name), object: object, precondition: namespaceCheck), warnings)
        } catch let error as VirtError where error.code == .exists {
            throw VirtError(.exists, "\(type.qualifiedName) \"\(name)\" already exists", details: details(type, name))
        }
    }

    /// `metadata.name`, or one made from `generateName`.
    func createName(_ metadata: [String: JSONValue], type: ResourceType) throws -> String {
        let name = metadata["name"]?.stringValue ?? ""
        if !name.isEmpty { return name }
        guard let prefix = metadata["generateName"]?.stringValue, !prefix.isEmpty else {
            throw invalid(type, "", [VirtError.Cause(reason: "FieldValueRequired", message: "name or generateName is required", field: "metadata.name")])
        }
        return prefix + Self.randomSuffix()
    }

    /// Runs a precondition against the store as it is now, outside any write (dry runs, error paths).
    func checkNow(_ precondition: StorePrecondition?) async throws {
        guard let precondition else { return }
        try precondition.check(try await store.get(precondition.key)?.object)
    }

    /// Refuses a create in a namespace that does not exist or is being deleted.
    func namespacePrecondition(_ namespace: String) -> StorePrecondition {
        let resource = registry.resource(group: "", version: "v1", plural: "namespaces")?.storeResource ?? "/namespaces"
        return StorePrecondition(key: StoreKey(resource: resource, namespace: "", name: namespace)) { stored in
            guard let stored else {
                throw VirtError(.notFound, "namespaces \"\(namespace)\" not found", details: VirtError.Details(name: namespace, group: "", kind: "namespaces"))
            }
            if stored.metaDeletionTimestamp != nil {
                throw VirtError(.forbidden, "unable to create new content in namespace \(namespace) because it is being terminated")
            }
        }
    }

    // MARK: - Update

    /// Replaces an object (or its status) after admission; a no-op write keeps the resourceVersion.
    func update(_ target: RequestTarget, name: String, proposed: JSONValue, subresource: String?, fieldValidation: String?, dryRun: Bool,
                expectedRevision explicitRevision: Int64? = nil) async throws -> (JSONValue, [String]) {
        let type = target.type
        if let bodyName = proposed.metaName, bodyName != name {
            throw VirtError(.badRequest, "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if type.namespaced, let bodyNamespace = proposed.metaNamespace, !bodyNamespace.isEmpty, bodyNamespace != target.namespace {
            throw VirtError(.badRequest, "the namespace of the provided object (\(bodyNamespace)) does not match the namespace sent on the request (\(target.namespace ?? ""))")
        }
        guard let current = try await store.get(target.key(name: name)) else { throw notFound(type, name) }
        var expected = explicitRevision
        if let rvText = proposed.metaResourceVersion, !rvText.isEmpty {
            guard let rv = Int64(rvText) else {
                throw invalid(type, name, [VirtError.Cause(message: "Invalid value: \"\(rvText)\": must be an integer", field: "metadata.resourceVersion")])
            }
            if rv != current.revision { throw conflict(type, name) }
            expected = rv
        }
        var next: JSONValue
        // A subresource such as status replaces its part of the object and keeps the rest.
        let part = subresource.flatMap { type.subresourceWrites[$0] }
        if let part {
            next = current.object
            next[path: part] = proposed[path: part]
        } else {
            next = proposed
            var metadata = next["metadata"]?.objectValue ?? [:]
            let old = current.object["metadata"]?.objectValue ?? [:]
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "name", "generation"] {
                metadata[field] = old[field]
            }
            next["metadata"] = .object(metadata)
            next["apiVersion"] = .string(type.apiVersion)
            next["kind"] = .string(type.kind)
            if type.hasStatus { next["status"] = current.object["status"] }
        }
        // The stored form, defaulted again as on create (KubeVirt's mutating webhooks run on updates too,
        // Kubernetes defaults on every decode): a no-op re-apply that carries nulls, a Secret's stringData
        // or leaves out what defaults fill in changes nothing.
        next = type.normalized(next)
        if part == nil { type.applyDefaults(&next) }
        let mode = try fieldValidationMode(fieldValidation)
        // Decoded once, and only when needed: a status write that changes nothing needs no review.
        lazy var review = type.review(next, old: current.object)
        let warnings = part != nil ? [] : try checkFields(review.unknownFields, type: type, name: name, mode: mode)
        if Self.specChanged(current.object, next) {
            let generation = current.object[path: ["metadata", "generation"]]?.intValue ?? 1
            next[path: ["metadata", "generation"]] = .int(generation + 1)
        }
        next[path: ["metadata", "resourceVersion"]] = current.object[path: ["metadata", "resourceVersion"]]
        if next == current.object { return (current.object, warnings) }
        try validate(next, causes: review.causes, type: type, name: name)
        if dryRun { return (next, warnings) }
        // Finalizers all gone from an object being deleted: the delete completes now.
        if next.metaDeletionTimestamp != nil, next.metaFinalizers.isEmpty {
            let deleted = try await store.delete(target.key(name: name), expectedRevision: expected ?? current.revision)
            return (deleted.object, warnings)
        }
        do {
            return (try await store.update(target.key(name: name), object: next, expectedRevision: expected ?? current.revision).object, warnings)
        } catch let error as VirtError where error.code == .conflict {
            throw conflict(type, name)
        } catch let error as VirtError where error.code == .notFound {
            throw notFound(type, name)
        }
    }

    /// Everything but metadata and status: what `generation` counts.
    static func specChanged(_ old: JSONValue, _ new: JSONValue) -> Bool {
        var a = old.objectValue ?? [:]
        var b = new.objectValue ?? [:]
        for key in ["metadata", "status"] {
            a[key] = nil
            b[key] = nil
        }
        return a != b
    }

    // MARK: - Delete

    struct DeleteOptions {
        var propagationPolicy: String?
        var preconditionUID: String?
        var preconditionResourceVersion: String?
        var gracePeriodSeconds: Int64?
    }

    func deleteOptions(_ request: APIRequest) throws -> DeleteOptions {
        var options = DeleteOptions()
        if !request.body.isEmpty {
            let body = try JSONValue.parse(request.body)
            options.propagationPolicy = body["propagationPolicy"]?.stringValue
            options.preconditionUID = body[path: ["preconditions", "uid"]]?.stringValue
            options.preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.stringValue
            options.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            if body["orphanDependents"]?.boolValue == true { options.propagationPolicy = "Orphan" }
        }
        if let policy = request.query["propagationPolicy"] { options.propagationPolicy = policy }
        if let grace = request.query["gracePeriodSeconds"].flatMap({ Int64($0) }) { options.gracePeriodSeconds = grace }
        if let policy = options.propagationPolicy, !["Background", "Foreground", "Orphan"].contains(policy) {
            throw VirtError(.badRequest, "propagationPolicy: Unsupported value: \"\(policy)\": supported values: \"Background\", \"Foreground\", \"Orphan\"")
        }
        return options
    }

    /// Deletes an object: at once when nothing holds it, else marks it with `deletionTimestamp` and waits
    /// for its finalizers (the garbage collector handles `foregroundDeletion` and `orphan`).
    func delete(_ target: RequestTarget, name: String, options: DeleteOptions, dryRun: Bool) async throws -> JSONValue {
        let type = target.type
        let key = target.key(name: name)
        for _ in 0..<5 {
            guard let current = try await store.get(key) else { throw notFound(type, name) }
            if let uid = options.preconditionUID, uid != current.object.metaUID {
                throw VirtError(.conflict, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.object.metaUID ?? "")", details: details(type, name))
            }
            if let rv = options.preconditionResourceVersion, rv != current.object.metaResourceVersion {
                throw conflict(type, name)
            }
            var finalizers = current.object.metaFinalizers
            switch options.propagationPolicy {
            case "Foreground" where !finalizers.contains("foregroundDeletion"): finalizers.append("foregroundDeletion")
            case "Orphan" where !finalizers.contains("orphan"): finalizers.append("orphan")
            default: break
            }
            if type.kind == "Namespace" {
                var next = current.object
                if next.metaDeletionTimestamp == nil {
                    next[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.now())
                    next[path: ["status", "phase"]] = "Terminating"
                }
                if dryRun { return next }
                if next == current.object { return current.object }
                do {
                    return try await store.update(key, object: next, expectedRevision: current.revision).object
                } catch let error as VirtError where error.code == .conflict { continue }
            }
            if dryRun { return current.object }
            if finalizers.isEmpty {
                do {
                    return try await store.delete(key, expectedRevision: current.revision).object
                } catch let error as VirtError where error.code == .conflict { continue }
            }
            var next = current.object
            next[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) })
            if next.metaDeletionTimestamp == nil {
                next[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.now())
                next[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(options.gracePeriodSeconds ?? 0)
            }
            if next == current.object { return current.object }
            do {
                return try await store.update(key, object: next, expectedRevision: current.revision).object
            } catch let error as VirtError where error.code == .conflict { continue }
        }
        throw conflict(type, name)
    }

    func deleteCollection(_ request: APIRequest, target: RequestTarget, dryRun: Bool) async throws -> APIResponse {
        let filter = try selectorFilter(request, type: target.type)
        let options = try deleteOptions(request)
        let page = try await store.list(StoreScope(resource: target.type.storeResource, namespace: target.namespace),
                                        startAfter: nil, limit: 0, filter: filter)
        var deleted: [JSONValue] = []
        for item in page.items {
            var itemTarget = target
            itemTarget.namespace = item.key.namespace.isEmpty ? nil : item.key.namespace
            do {
                deleted.append(try await delete(itemTarget, name: item.key.name, options: options, dryRun: dryRun))
            } catch let error as VirtError where error.code == .notFound {
                continue
            }
        }
        return .json([
            "kind": .string(target.type.listKind), "apiVersion": .string(target.type.apiVersion),
            "metadata": ["resourceVersion": .string(String(try await store.currentRevision()))], "items": .array(deleted),
        ])
    }

    /// `POST pods/NAME/eviction`: with no disruption budgets yet, an eviction deletes the pod.
    func evict(target: RequestTarget, name: String, dryRun: Bool) async throws -> APIResponse {
        _ = try await delete(target, name: name, options: DeleteOptions(), dryRun: dryRun)
        return .json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201], status: 201)
    }

    // MARK: - Admission

    /// Unknown fields per `fieldValidation` (Strict: refuse; Warn, the default: warn; Ignore: nothing).
    /// The request's `fieldValidation`: Strict, Warn (the default) or Ignore.
    func fieldValidationMode(_ fieldValidation: String?) throws -> String {
        let mode = fieldValidation ?? "Warn"
        guard ["Strict", "Warn", "Ignore"].contains(mode) else {
            throw VirtError(.badRequest, "fieldValidation: unsupported value \"\(mode)\": supported values: \"Ignore\", \"Strict\", \"Warn\"")
        }
        return mode
    }

    /// Warnings for the unknown fields (Warn), or a 422 naming them (Strict).
    func checkFields(_ unknown: [String], type: ResourceType, name: String, mode: String) throws -> [String] {
        if mode == "Ignore" || unknown.isEmpty { return [] }
        if mode == "Strict" {
            let causes = unknown.map { VirtError.Cause(reason: "FieldValueInvalid", message: "unknown field \"\($0)\"", field: $0) }
            let list = unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", ")
            throw VirtError(.invalid, "\(type.displayKind) \"\(name)\" is invalid: strict decoding error: \(list)",
                            causes: causes, details: VirtError.Details(name: name, group: type.group, kind: type.kind))
        }
        return unknown.map { "unknown field \"\($0)\"" }
    }

    /// Metadata rules plus the kind's own causes (from `Admission.review`).
    func validate(_ object: JSONValue, causes kindCauses: [VirtError.Cause], type: ResourceType, name: String) throws {
        var causes = MetadataValidation.validate(object, namespaced: type.namespaced, isNamespace: type.kind == "Namespace")
        causes += kindCauses
        if !causes.isEmpty { throw invalid(type, name, causes) }
    }

    // MARK: - Errors

    func details(_ type: ResourceType, _ name: String) -> VirtError.Details {
        VirtError.Details(name: name, group: type.group, kind: type.plural)
    }

    func notFound(_ type: ResourceType, _ name: String) -> VirtError {
        VirtError(.notFound, "\(type.qualifiedName) \"\(name)\" not found", details: details(type, name))
    }

    func conflict(_ type: ResourceType, _ name: String) -> VirtError {
        VirtError(.conflict, "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
                  details: details(type, name))
    }

    func invalid(_ type: ResourceType, _ name: String, _ causes: [VirtError.Cause]) -> VirtError {
        let kindName = type.displayKind
        let parts = causes.map { "\($0.field): \($0.message)" }
        let summary = parts.count == 1 ? parts[0] : "[\(parts.joined(separator: ", "))]"
        return VirtError(.invalid, "\(kindName) \"\(name)\" is invalid: \(summary)", causes: causes,
                         details: VirtError.Details(name: name, group: type.group, kind: type.kind))
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }
}

/// `continue` tokens: the key the next page starts after, base64 of JSON.
enum ContinueToken {
    static func encode(_ key: StoreKey) -> String {
        let json: JSONValue = ["ns": .string(key.namespace), "name": .string(key.name)]
        return Data(json.serialized().utf8).base64EncodedString()
    }

    static func decode(_ token: String, resource: String) throws -> StoreKey {
        guard let data = Data(base64Encoded: token), let json = try? JSONValue.parse(Array(data)),
              let namespace = json["ns"]?.stringValue, let name = json["name"]?.stringValue
        else {
            throw VirtError(.badRequest, "continue: the continue token is not valid; start the list again without it")
        }
        return StoreKey(resource: resource, namespace: namespace, name: name)
    }
}
