import VirtAPI
import VirtError

extension KubeClient {
    /// The server's resource types, fetched on first use and cached for the life of this client.
    ///
    /// Reads `GET /api/v1`, `GET /apis` (an `APIGroupList`) and `GET /apis/GROUP/VERSION` for every served
    /// version (preferred first). A group version that fails to answer is left out, as kubectl does.
    ///
    /// - Parameter refresh: discard the cached discovery and fetch again.
    public func discovery(refresh: Bool = false) async throws(VirtError) -> Discovery {
        do {
            return try await discoveryCache.value(refresh: refresh) { [self] () async throws(VirtError) -> Discovery in
                try await fetchDiscovery()
            }
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError(.internal, "discovery failed: \(error)")
        }
    }

    /// Resolves what a user typed (`vm`, `virtualmachines.kubevirt.io`, `pods`, …) through ``discovery(refresh:)``.
    public func resource(for typed: String) async throws(VirtError) -> APIResource {
        try await discovery().resolve(typed)
    }

    /// Resolves a manifest's `apiVersion` and `kind` through ``discovery(refresh:)``.
    public func resource(apiVersion: String, kind: String) async throws(VirtError) -> APIResource {
        try await discovery().resolve(apiVersion: apiVersion, kind: kind)
    }

    private func fetchDiscovery() async throws(VirtError) -> Discovery {
        var lists: [JSONValue] = []
        let core = try await raw(method: "GET", path: "/api/v1")
        if core.isSuccess {
            lists.append(try decode(core, what: "GET /api/v1"))
        } else if core.status != 404 {
            throw KubeStatus.error(httpStatus: core.status, body: core.body)
        }
        let apis = try await raw(method: "GET", path: "/apis")
        guard apis.isSuccess else {
            var error = KubeStatus.error(httpStatus: apis.status, body: apis.body)
            error.message = "couldn't get current server API group list: \(error.message)"
            throw error
        }
        let groupList = try decode(apis, what: "GET /apis")
        var groupVersions: [String] = []
        for group in groupList["groups"]?.arrayValue ?? [] {
            let preferred = group[path: ["preferredVersion", "groupVersion"]]?.stringValue
            if let preferred { groupVersions.append(preferred) }
            for version in group["versions"]?.arrayValue ?? [] {
                if let gv = version["groupVersion"]?.stringValue, gv != preferred { groupVersions.append(gv) }
            }
        }
        let fetched = await withTaskGroup(of: (Int, JSONValue?).self) { group in
            for (index, groupVersion) in groupVersions.enumerated() {
                group.addTask { [self] in
                    guard let response = try? await raw(method: "GET", path: "/apis/\(groupVersion)"), response.isSuccess,
                        let list = try? JSONValue.parse(response.body)
                    else { return (index, nil) }
                    return (index, list)
                }
            }
            var results = [JSONValue?](repeating: nil, count: groupVersions.count)
            for await (index, list) in group { results[index] = list }
            return results
        }
        lists += fetched.compactMap { $0 }
        return try Discovery(resourceLists: lists)
    }
}

/// Holds one discovery per client; concurrent first callers share one fetch, and a failed fetch is retried.
actor DiscoveryCache {
    private var current: Task<Discovery, any Error>?

    func value(refresh: Bool, load: @escaping @Sendable () async throws(VirtError) -> Discovery) async throws -> Discovery {
        if refresh { current = nil }
        if let current { return try await current.value }
        let task = Task { () async throws -> Discovery in try await load() }
        current = task
        do {
            return try await task.value
        } catch {
            current = nil
            throw error
        }
    }
}
