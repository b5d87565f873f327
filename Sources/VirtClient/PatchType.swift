/// The kind of patch a `PATCH` request carries, which decides its `Content-Type`.
public enum PatchType: Sendable, Equatable {
    /// RFC 7386 JSON merge patch (`application/merge-patch+json`).
    case merge
    /// RFC 6902 JSON patch (`application/json-patch+json`).
    case json
    /// Server-side apply (`application/apply-patch+yaml`, the body may be JSON); `force` takes over fields
    /// other managers own.
    case apply(fieldManager: String, force: Bool)
    /// Strategic merge patch. SwiftVirt's server answers 415; kept so callers can say so.
    case strategic

    /// The `Content-Type` header value.
    public var contentType: String {
        switch self {
        case .merge: "application/merge-patch+json"
        case .json: "application/json-patch+json"
        case .apply: "application/apply-patch+yaml"
        case .strategic: "application/strategic-merge-patch+json"
        }
    }
}
