import VirtAPI
import VirtError

/// What resource types a server serves, and how to find one from what a user types.
///
/// Built from the server's discovery documents (`GET /api/v1`, `GET /apis`, `GET /apis/GROUP/VERSION`), or
/// directly from `APIResourceList` JSON so it can be tested without a server. Resources are kept in priority
/// order: the core group first, then groups in the server's order, each group's preferred version first; the
/// first match wins, as with kubectl.
public struct Discovery: Sendable {
    /// Every resource (subresources excluded), in priority order.
    public private(set) var resources: [APIResource]

    /// Creates a discovery from resources already in priority order.
    public init(resources: [APIResource]) {
        self.resources = resources
    }

    /// Creates a discovery from `APIResourceList` documents (each carries its `groupVersion`), in priority order.
    ///
    /// - Throws: `VirtError.invalid` when a document is not an `APIResourceList`.
    public init(resourceLists: [JSONValue]) throws(VirtError) {
        var resources: [APIResource] = []
        for list in resourceLists {
            resources += try Discovery.parseResourceList(list)
        }
        self.resources = resources
    }

    /// Parses one `APIResourceList` into resources; subresources (`virtualmachines/status`) are skipped.
    public static func parseResourceList(_ list: JSONValue) throws(VirtError) -> [APIResource] {
        guard let groupVersion = list["groupVersion"]?.stringValue, let entries = list["resources"]?.arrayValue else {
            throw VirtError(.invalid, "the server's discovery document is not an APIResourceList (no groupVersion or resources)")
        }
        let (group, version) = splitAPIVersion(groupVersion)
        var out: [APIResource] = []
        for entry in entries {
            guard let name = entry["name"]?.stringValue, !name.contains("/"), let kind = entry["kind"]?.stringValue else { continue }
            out.append(APIResource(
                group: entry["group"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? group,
                version: entry["version"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? version,
                name: name,
                singularName: entry["singularName"]?.stringValue ?? "",
                kind: kind,
                namespaced: entry["namespaced"]?.boolValue ?? false,
                shortNames: entry["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                categories: entry["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                verbs: entry["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? []
            ))
        }
        return out
    }

    /// Splits `group/version` (`v1` is the core group) into its parts.
    public static func splitAPIVersion(_ apiVersion: String) -> (group: String, version: String) {
        guard let slash = apiVersion.lastIndex(of: "/") else { return ("", apiVersion) }
        return (String(apiVersion[..<slash]), String(apiVersion[apiVersion.index(after: slash)...]))
    }

    /// Resolves what a user typed: a plural (`virtualmachines`), singular (`virtualmachine`), kind
    /// (`VirtualMachine`), short name (`vm`), any of those qualified by group (`virtualmachines.kubevirt.io`)
    /// or by version and group (`vm.v1.kubevirt.io`). Case does not matter.
    ///
    /// - Throws: `VirtError.notFound`: `the server doesn't have a resource type "foo"`.
    public func resolve(_ typed: String) throws(VirtError) -> APIResource {
        let lowered = typed.lowercased()
        if let dot = lowered.firstIndex(of: ".") {
            let resource = String(lowered[..<dot])
            let rest = String(lowered[lowered.index(after: dot)...])
            if let secondDot = rest.firstIndex(of: ".") {
                let version = String(rest[..<secondDot])
                let group = String(rest[rest.index(after: secondDot)...])
                if let found = match(resource, in: resources.filter { $0.group == group && $0.version == version }) {
                    return found
                }
            }
            if let found = match(resource, in: resources.filter { $0.group == rest }) {
                return found
            }
        }
        if let found = match(lowered, in: resources) { return found }
        throw VirtError(.notFound, "the server doesn't have a resource type \"\(typed)\"")
    }

    /// Resolves a manifest's `apiVersion` and `kind`.
    ///
    /// - Throws: `VirtError.notFound`: `no matches for kind "K" in version "G/V"`.
    public func resolve(apiVersion: String, kind: String) throws(VirtError) -> APIResource {
        let (group, version) = Discovery.splitAPIVersion(apiVersion)
        if let found = resources.first(where: { $0.group == group && $0.version == version && $0.kind == kind }) {
            return found
        }
        throw VirtError(.notFound, "no matches for kind \"\(kind)\" in version \"\(apiVersion)\"")
    }

    /// The resources in a category such as `all`.
    public func resources(inCategory category: String) -> [APIResource] {
        var seen = Set<String>()
        return resources.filter { $0.categories.contains(category) && seen.insert("\($0.group)/\($0.name)").inserted }
    }

    /// Plural, singular and kind names first, across all candidates in priority order; short names after.
    private func match(_ name: String, in candidates: [APIResource]) -> APIResource? {
        if let found = candidates.first(where: { $0.name == name || $0.singularName == name || $0.kind.lowercased() == name }) {
            return found
        }
        return candidates.first(where: { $0.shortNames.contains(name) })
    }
}
