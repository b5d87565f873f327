/// policy/v1 `Eviction`: a request to evict a pod (POSTed to `pods/<name>/eviction`).
public struct Eviction: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    /// Names the pod to evict.
    public var metadata: ObjectMeta?
    /// `metav1.DeleteOptions`; kept opaque.
    public var deleteOptions: JSONValue?

    public init(metadata: ObjectMeta? = nil) {
        self.apiVersion = "policy/v1"
        self.kind = "Eviction"
        self.metadata = metadata
    }
}
