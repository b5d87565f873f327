import VirtAPI
import VirtClient
import VirtError

/// `KubeClient` is the production ``APIClient``. Each requirement forwards to the client's fuller method
/// with that method's defaults, so existing callers see no change in behaviour.
extension KubeClient: APIClient {
    public func get(_ path: ResourcePath) async throws(VirtError) -> JSONValue {
        try await get(path, accept: KubeClient.jsonAccept)
    }

    /// One unpaged `GET` of the collection: the list is a consistent snapshot at its `resourceVersion`
    /// (pages taken with `continue` are not, on SwiftVirt's server), which is what an informer needs.
    public func list(_ path: ResourcePath, labelSelector: String?, fieldSelector: String?) async throws(VirtError) -> JSONValue {
        try await list(path, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: nil, continue: nil, resourceVersion: nil,
                       accept: KubeClient.jsonAccept)
    }

    public func create(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue {
        try await create(path, body: body, dryRun: false, fieldManager: nil)
    }

    public func update(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue {
        try await update(path, body: body, dryRun: false, fieldManager: nil)
    }

    public func updateStatus(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue {
        try await update(path.subresource("status"), body: body, dryRun: false, fieldManager: nil)
    }

    public func patch(_ path: ResourcePath, mergePatch: JSONValue) async throws(VirtError) -> JSONValue {
        try await patch(path, body: mergePatch, contentType: .merge, dryRun: false, fieldManager: nil)
    }

    @discardableResult
    public func delete(_ path: ResourcePath, propagationPolicy: PropagationPolicy?, gracePeriodSeconds: Int?) async throws(VirtError) -> JSONValue {
        try await delete(path, propagationPolicy: propagationPolicy, dryRun: false, gracePeriodSeconds: gracePeriodSeconds)
    }

    public func watch(_ path: ResourcePath, resourceVersion: String?, labelSelector: String?, fieldSelector: String?)
        -> AsyncThrowingStream<WatchEvent, any Error>
    {
        watch(path, resourceVersion: resourceVersion, labelSelector: labelSelector, fieldSelector: fieldSelector,
              allowBookmarks: false, timeoutSeconds: nil, accept: KubeClient.jsonAccept)
    }
}
