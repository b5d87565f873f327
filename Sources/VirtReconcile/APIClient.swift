import VirtAPI
import VirtClient
import VirtError

/// The part of the Kubernetes REST API that controllers use. ``KubeClient`` conforms (so controllers talk
/// to the API server over HTTP, as the architecture requires, even in all-in-one mode); tests use an
/// in-memory implementation.
///
/// Every method has Kubernetes semantics: writes that carry `metadata.resourceVersion` fail with
/// `VirtError.conflict` when the object changed since; `update` ignores `status` and `updateStatus`
/// ignores everything but `status` for kinds with a status subresource.
public protocol APIClient: Sendable {
    /// `GET` one object.
    func get(_ path: ResourcePath) async throws(VirtError) -> JSONValue
    /// `GET` a whole collection as one list (`items`, and `metadata.resourceVersion` to watch from).
    func list(_ path: ResourcePath, labelSelector: String?, fieldSelector: String?) async throws(VirtError) -> JSONValue
    /// `POST` a new object; returns it as stored.
    func create(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue
    /// `PUT` a whole object.
    func update(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue
    /// `PUT …/status`: replaces only the status.
    func updateStatus(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue
    /// `PATCH` with an RFC 7386 merge patch. A `metadata.resourceVersion` in the patch is a precondition.
    func patch(_ path: ResourcePath, mergePatch: JSONValue) async throws(VirtError) -> JSONValue
    /// `DELETE` an object. Returns the object while finalizers hold it, else the server's `Status`.
    @discardableResult
    func delete(_ path: ResourcePath, propagationPolicy: PropagationPolicy?, gracePeriodSeconds: Int?) async throws(VirtError) -> JSONValue
    /// Watches a collection from `resourceVersion` (`nil`: current state first, as `ADDED` events). The
    /// stream throws the `VirtError` of an `ERROR` event (410 `Expired` when the version is too old).
    func watch(_ path: ResourcePath, resourceVersion: String?, labelSelector: String?, fieldSelector: String?)
        -> AsyncThrowingStream<WatchEvent, any Error>
}
