import VirtAPI
import VirtError
import VirtStore

/// What a REST path names: a kind, maybe a namespace, a name and a subresource.
struct RequestTarget: Sendable {
    var type: ResourceType
    /// The namespace from the path (`nil`: all namespaces, or a cluster-scoped kind).
    var namespace: String?
    var name: String?
    var subresource: String?

    /// The store key of the named object in this target.
    func key(name: String) -> StoreKey {
        StoreKey(resource: type.storeResource, namespace: namespace ?? "", name: name)
    }

    /// Parses `/api/v1/...` and `/apis/GROUP/VERSION/...`; `nil` when the path is not a resource path.
    static func parse(_ segments: [Substring], registry: Registry) throws(VirtError) -> RequestTarget? {
        let group: String
        let version: String
        var rest: ArraySlice<Substring>
        if segments.first == "api", segments.count >= 3 {
            group = ""
            version = String(segments[1])
            rest = segments[2...]
        } else if segments.first == "apis", segments.count >= 4 {
            group = String(segments[1])
            version = String(segments[2])
            rest = segments[3...]
        } else {
            return nil
        }
        var namespace: String?
        // /namespaces/NS/RESOURCE/... unless it is the namespaces resource itself (/namespaces/NAME[/status]).
        if rest.first == "namespaces", rest.count >= 3,
           !(group.isEmpty && ["status", "finalize"].contains(rest[rest.startIndex + 2]) && rest.count == 3)
        {
            namespace = String(rest[rest.startIndex + 1])
            rest = rest.dropFirst(2)
        }
        guard let plural = rest.first else { return nil }
        guard let type = registry.resource(group: group, version: version, plural: String(plural)) else {
            let gv = group.isEmpty ? version : "\(group)/\(version)"
            throw VirtError(.notFound, "the server could not find the requested resource (\(gv), resource \"\(plural)\")")
        }
        rest = rest.dropFirst()
        let name = rest.first.map(String.init)
        rest = rest.dropFirst()
        let subresource = rest.first.map(String.init)
        if rest.count > 1 { throw VirtError(.notFound, "the server could not find the requested resource") }
        if let subresource, !type.subresources.contains(subresource) {
            throw VirtError(.notFound, "the server could not find the requested resource: \(type.qualifiedName) has no subresource \"\(subresource)\"")
        }
        if !type.namespaced, namespace != nil {
            throw VirtError(.notFound, "the server could not find the requested resource: \(type.qualifiedName) is not namespaced")
        }
        return RequestTarget(type: type, namespace: namespace, name: name, subresource: subresource)
    }
}

