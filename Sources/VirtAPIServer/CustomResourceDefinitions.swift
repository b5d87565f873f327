import Foundation
import VirtAPI
import VirtError

/// `apiextensions.k8s.io/v1` CustomResourceDefinitions, read-only: one for each kind of the registry that
/// a Kubernetes cluster defines as a custom resource (KubeVirt's, CDI's, Multus', nmstate's), generated
/// from its `ResourceType`. kubectl's validation looks for them, and `kubectl get crd` shows them as on a
/// KubeVirt cluster. The kinds are built in, so creating, changing or deleting a definition is refused.
struct CustomResourceDefinitions: Sendable {
    static let type = ResourceType.customResourceDefinition
    /// `/apis/apiextensions.k8s.io/v1/customresourcedefinitions`.
    static let segments: [Substring] = ["apis", "apiextensions.k8s.io", "v1", "customresourcedefinitions"]

    /// The definitions, by name.
    let definitions: [String: JSONValue]
    let handler: ResourceHandler

    /// The definitions of `registry`'s custom kinds, created (as far as clients see) at `createdAt`.
    init(registry: Registry, handler: ResourceHandler, createdAt: Date = Date()) {
        let timestamp = Timestamp.format(createdAt)
        var definitions: [String: JSONValue] = [:]
        for type in registry.types where type.isCustomResource {
            let name = type.customResourceDefinitionName
            definitions[name] = type.customResourceDefinitionObject(metadata: [
                "uid": .string(ResourceType.customResourceDefinitionUID(name: name)),
                "resourceVersion": "1", "creationTimestamp": .string(timestamp),
            ])
        }
        self.definitions = definitions
        self.handler = handler
    }

    /// `true` when `segments` name the definitions or one of them.
    static func matches(_ segments: [Substring]) -> Bool {
        segments.count >= 4 && Array(segments.prefix(4)) == Self.segments
    }

    /// Answers a request on the definitions: list (or Table) and get; every write is a 405.
    func handle(_ request: APIRequest, segments: [Substring]) throws -> APIResponse {
        guard segments.count <= 5 else {
            throw VirtError(.notFound, "the server could not find the requested resource: customresourcedefinitions have no subresources")
        }
        guard request.method == "GET" else {
            throw VirtError(.methodNotAllowed, """
                customresourcedefinitions.apiextensions.k8s.io are built into SwiftVirt and read-only: its kinds are \
                served without definitions of their own, so a CustomResourceDefinition cannot be created, changed or \
                deleted (\(request.method) is not allowed)
                """)
        }
        if request.flag("watch") {
            throw VirtError(.methodNotAllowed, "customresourcedefinitions.apiextensions.k8s.io cannot be watched: they are built in and never change while the server runs; list or get them instead")
        }
        if segments.count == 5 {
            let name = String(segments[4])
            guard let definition = definitions[name] else {
                throw VirtError(.notFound, "customresourcedefinitions.apiextensions.k8s.io \"\(name)\" not found",
                                details: VirtError.Details(name: name, group: Self.type.group, kind: Self.type.plural))
            }
            return request.wantsTable ? .json(handler.table(for: Self.type, objects: [definition], revision: nil)) : .json(definition)
        }
        let filter = try handler.selectorFilter(request, type: Self.type)
        let items = definitions.keys.sorted().compactMap { definitions[$0] }.filter { filter?($0) ?? true }
        if request.wantsTable {
            return .json(handler.table(for: Self.type, objects: items, revision: 1))
        }
        return .json([
            "kind": "CustomResourceDefinitionList", "apiVersion": "apiextensions.k8s.io/v1",
            "metadata": ["resourceVersion": "1"], "items": .array(items),
        ])
    }
}
