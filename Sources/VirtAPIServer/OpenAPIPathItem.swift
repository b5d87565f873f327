import VirtAPI

/// One REST path of a kind with the operations served on it, as both OpenAPI documents (v2 and v3) declare
/// them: the path's own parameters (`namespace`, `name`, `pretty`) and, per operation, the query parameters
/// Kubernetes declares for that verb, the body it takes and what it answers.
struct OpenAPIPathItem: Sendable {
    /// A path or query parameter.
    struct Parameter: Sendable {
        enum Location: String, Sendable { case path, query }
        var name: String
        var location: Location
        /// OpenAPI primitive type: `string`, `integer` or `boolean`.
        var type: String
        var description: String
        var required: Bool { location == .path }
    }

    /// What an operation takes as its body.
    enum Body: Sendable {
        /// The kind's object (create, replace).
        case object
        /// A patch in one of the patch media types.
        case patch
        /// `DeleteOptions` (delete, deletecollection), optional.
        case deleteOptions
    }

    /// What an operation answers with on success.
    enum Answer: Sendable {
        case object
        case list
        case status
    }

    /// One operation (`get`, `post`, `put`, `patch`, `delete`) on the path.
    struct Operation: Sendable {
        var method: String
        /// `listKubevirtIoV1NamespacedVirtualMachine`, in Kubernetes' naming.
        var id: String
        /// `x-kubernetes-action`: get, list, post, put, patch, delete, deletecollection.
        var action: String
        var description: String
        var parameters: [Parameter]
        var body: Body?
        var answer: Answer
        /// The success status codes with their descriptions.
        var successes: [(code: String, description: String)]
    }

    var path: String
    var type: ResourceType
    var parameters: [Parameter]
    var operations: [Operation]

    // MARK: - Parameters Kubernetes declares

    static let pretty = Parameter(name: "pretty", location: .query, type: "string",
                                  description: "If 'true', then the output is pretty printed.")
    static let namespace = Parameter(name: "namespace", location: .path, type: "string",
                                     description: "object name and auth scope, such as for teams and projects")
    static let name = Parameter(name: "name", location: .path, type: "string", description: "name of the object")

    static let listParameters: [Parameter] = [
        Parameter(name: "allowWatchBookmarks", location: .query, type: "boolean",
                  description: "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
        Parameter(name: "continue", location: .query, type: "string",
                  description: "The continue option should be set when retrieving more results from the server."),
        Parameter(name: "fieldSelector", location: .query, type: "string",
                  description: "A selector to restrict the list of returned objects by their fields."),
        Parameter(name: "labelSelector", location: .query, type: "string",
                  description: "A selector to restrict the list of returned objects by their labels."),
        Parameter(name: "limit", location: .query, type: "integer",
                  description: "limit is a maximum number of responses to return for a list call."),
        Parameter(name: "resourceVersion", location: .query, type: "string",
                  description: "resourceVersion sets a constraint on what resource versions a request may be served from."),
        Parameter(name: "resourceVersionMatch", location: .query, type: "string",
                  description: "resourceVersionMatch determines how resourceVersion is applied to list calls."),
        Parameter(name: "sendInitialEvents", location: .query, type: "boolean",
                  description: "`sendInitialEvents=true` may be set together with `watch=true`."),
        Parameter(name: "timeoutSeconds", location: .query, type: "integer",
                  description: "Timeout for the list/watch call."),
        Parameter(name: "watch", location: .query, type: "boolean",
                  description: "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
    ]

    static let dryRun = Parameter(name: "dryRun", location: .query, type: "string",
                                  description: "When present, indicates that modifications should not be persisted. Valid values: All.")
    static let fieldManager = Parameter(name: "fieldManager", location: .query, type: "string",
                                        description: "fieldManager is a name associated with the actor or entity that is making these changes.")
    static let fieldValidation = Parameter(
        name: "fieldValidation", location: .query, type: "string",
        description: "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values: Ignore, Warn, Strict.")
    static let writeParameters = [dryRun, fieldManager, fieldValidation]
    static let force = Parameter(name: "force", location: .query, type: "boolean",
                                 description: "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests.")

    static let deleteParameters: [Parameter] = [
        dryRun,
        Parameter(name: "gracePeriodSeconds", location: .query, type: "integer",
                  description: "The duration in seconds before the object should be deleted."),
        Parameter(name: "orphanDependents", location: .query, type: "boolean",
                  description: "Deprecated: please use the PropagationPolicy."),
        Parameter(name: "propagationPolicy", location: .query, type: "string",
                  description: "Whether and how garbage collection will be performed: Orphan, Background or Foreground."),
    ]

    // MARK: - Paths of a kind

    /// `KubevirtIoV1` / `CoreV1` / `StorageV1`: the group/version part of Kubernetes' operation ids.
    static func idPart(_ type: ResourceType) -> String {
        var group = type.group
        if group.isEmpty { group = "core" }
        if group.hasSuffix(".k8s.io") { group = String(group.dropLast(".k8s.io".count)) }
        let words = group.split(whereSeparator: { $0 == "." || $0 == "-" }).map { $0.prefix(1).uppercased() + $0.dropFirst() }
        return words.joined() + type.version.prefix(1).uppercased() + type.version.dropFirst()
    }

    /// Every path the server serves for `type`, with the operations its verbs allow.
    static func items(for type: ResourceType) -> [OpenAPIPathItem] {
        // A kind offered only as the body of another kind's subresource (policy/v1 Eviction) has no paths.
        guard type.verbs.contains("get") else { return [] }
        let prefix = "/" + OpenAPIDocument.path(group: type.group, version: type.version)
        let gv = idPart(type)
        let scoped = type.namespaced ? "Namespaced" : ""
        let collection = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)" : "\(prefix)/\(type.plural)"
        let scope: [Parameter] = type.namespaced ? [namespace, pretty] : [pretty]
        let verbs = Set(type.verbs)
        let kind = type.kind
        var items: [OpenAPIPathItem] = []

        var collectionOps: [Operation] = []
        if verbs.contains("list") {
            collectionOps.append(Operation(
                method: "get", id: "list\(gv)\(scoped)\(kind)", action: "list", description: "list or watch objects of kind \(kind)",
                parameters: listParameters, body: nil, answer: .list, successes: [("200", "OK")]))
        }
        if verbs.contains("create") {
            collectionOps.append(Operation(
                method: "post", id: "create\(gv)\(scoped)\(kind)", action: "post", description: "create a \(kind)",
                parameters: writeParameters, body: .object, answer: .object,
                successes: [("200", "OK"), ("201", "Created"), ("202", "Accepted")]))
        }
        if verbs.contains("deletecollection") {
            collectionOps.append(Operation(
                method: "delete", id: "deleteCollection\(gv)\(scoped)\(kind)", action: "deletecollection",
                description: "delete collection of \(kind)", parameters: listParameters + deleteParameters,
                body: .deleteOptions, answer: .status, successes: [("200", "OK")]))
        }
        if !collectionOps.isEmpty {
            items.append(OpenAPIPathItem(path: collection, type: type, parameters: scope, operations: collectionOps))
        }

        var objectOps: [Operation] = [
            Operation(method: "get", id: "read\(gv)\(scoped)\(kind)", action: "get", description: "read the specified \(kind)",
                      parameters: [], body: nil, answer: .object, successes: [("200", "OK")]),
        ]
        if verbs.contains("update") {
            objectOps.append(Operation(
                method: "put", id: "replace\(gv)\(scoped)\(kind)", action: "put", description: "replace the specified \(kind)",
                parameters: writeParameters, body: .object, answer: .object, successes: [("200", "OK"), ("201", "Created")]))
        }
        if verbs.contains("patch") {
            objectOps.append(Operation(
                method: "patch", id: "patch\(gv)\(scoped)\(kind)", action: "patch", description: "partially update the specified \(kind)",
                parameters: writeParameters + [force], body: .patch, answer: .object, successes: [("200", "OK"), ("201", "Created")]))
        }
        if verbs.contains("delete") {
            objectOps.append(Operation(
                method: "delete", id: "delete\(gv)\(scoped)\(kind)", action: "delete", description: "delete a \(kind)",
                parameters: deleteParameters, body: .deleteOptions, answer: .object, successes: [("200", "OK"), ("202", "Accepted")]))
        }
        items.append(OpenAPIPathItem(path: "\(collection)/{name}", type: type, parameters: [name] + scope, operations: objectOps))

        // Subresources that read and write part of the object (status, a CSR's approval).
        for sub in type.subresources where type.subresourceWrites[sub] != nil {
            let suffix = sub.prefix(1).uppercased() + sub.dropFirst()
            items.append(OpenAPIPathItem(path: "\(collection)/{name}/\(sub)", type: type, parameters: [name] + scope, operations: [
                Operation(method: "get", id: "read\(gv)\(scoped)\(kind)\(suffix)", action: "get",
                          description: "read \(sub) of the specified \(kind)", parameters: [], body: nil, answer: .object,
                          successes: [("200", "OK")]),
                Operation(method: "put", id: "replace\(gv)\(scoped)\(kind)\(suffix)", action: "put",
                          description: "replace \(sub) of the specified \(kind)", parameters: writeParameters, body: .object,
                          answer: .object, successes: [("200", "OK"), ("201", "Created")]),
                Operation(method: "patch", id: "patch\(gv)\(scoped)\(kind)\(suffix)", action: "patch",
                          description: "partially update \(sub) of the specified \(kind)", parameters: writeParameters + [force],
                          body: .patch, answer: .object, successes: [("200", "OK"), ("201", "Created")]),
            ]))
        }

        if type.namespaced, verbs.contains("list") {
            items.append(OpenAPIPathItem(path: "\(prefix)/\(type.plural)", type: type, parameters: [pretty], operations: [
                Operation(method: "get", id: "list\(gv)\(kind)ForAllNamespaces", action: "list",
                          description: "list or watch objects of kind \(kind)", parameters: listParameters, body: nil,
                          answer: .list, successes: [("200", "OK")]),
            ]))
        }
        return items
    }
}
