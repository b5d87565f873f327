import VirtAPI

/// Discovery documents: the legacy lists and the aggregated form kubectl asks for first.
struct Discovery: Sendable {
    let registry: Registry

    /// Which aggregated discovery version the Accept header asks for, if any.
    static func aggregatedVersion(accept: String) -> String? {
        guard accept.contains("as=APIGroupDiscoveryList") else { return nil }
        for part in accept.split(separator: ",") where part.contains("as=APIGroupDiscoveryList") {
            let params = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            if params.contains("v=v2") { return "v2" }
            if params.contains("v=v2beta1") { return "v2beta1" }
        }
        return nil
    }

    func apiVersions() -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []]
    }

    func groupList() -> JSONValue {
        let all = groups() + [(VirtSubresources.group, [VirtSubresources.version])]
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(all.map { group($0.name, versions: $0.versions) })]
    }

    func group(_ name: String, versions: [String]) -> JSONValue {
        let entries: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array(entries), "preferredVersion": entries.first ?? [:]]
    }

    /// Non-core groups with their versions, in registry order.
    func groups() -> [(name: String, versions: [String])] {
        var result: [(String, [String])] = []
        for (group, version) in registry.groupVersions where !group.isEmpty {
            if let index = result.firstIndex(where: { $0.0 == group }) {
                result[index].1.append(version)
            } else {
                result.append((group, [version]))
            }
        }
        return result
    }

    func resourceList(group: String, version: String) -> JSONValue? {
        let types = registry.resources(group: group, version: version)
        if types.isEmpty { return nil }
        var resources: [JSONValue] = []
        for type in types {
            var entry: [String: JSONValue] = [
                "name": .string(type.plural), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            resources.append(.object(entry))
            for sub in type.subresources {
                resources.append([
                    "name": .string("\(type.plural)/\(sub)"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(sub == "eviction" ? "Eviction" : type.kind), "verbs": sub == "eviction" ? ["create"] : ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .array(resources),
        ]
    }

    /// `APIGroupDiscoveryList` for `/api` (core) or `/apis` (the rest).
    func aggregated(core: Bool, version discoveryVersion: String) -> JSONValue {
        var items: [JSONValue] = []
        let groupNames: [(String, [String])] = core ? [("", ["v1"])] : groups()
        for (name, versions) in groupNames {
            var versionEntries: [JSONValue] = []
            for version in versions {
                let resources: [JSONValue] = registry.resources(group: name, version: version).map { type in
                    var entry: [String: JSONValue] = [
                        "resource": .string(type.plural),
                        "responseKind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                        "scope": type.namespaced ? "Namespaced" : "Cluster",
                        "singularResource": .string(type.singular),
                        "verbs": .array(type.verbs.map { .string($0) }),
                    ]
                    if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
                    if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
                    if !type.subresources.isEmpty {
                        entry["subresources"] = .array(type.subresources.map { sub in
                            [
                                "subresource": .string(sub),
                                "responseKind": ["group": .string(sub == "eviction" ? "policy" : type.group), "version": .string(type.version),
                                                 "kind": .string(sub == "eviction" ? "Eviction" : type.kind)],
                                "verbs": sub == "eviction" ? ["create"] : ["get", "patch", "update"],
                            ]
                        })
                    }
                    return .object(entry)
                }
                versionEntries.append(["version": .string(version), "resources": .array(resources), "freshness": "Current"])
            }
            items.append(["metadata": ["name": .string(name), "creationTimestamp": nil], "versions": .array(versionEntries)])
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": .string("apidiscovery.k8s.io/\(discoveryVersion)"), "metadata": [:], "items": .array(items)]
    }
}
