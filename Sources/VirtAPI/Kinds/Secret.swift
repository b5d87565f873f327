/// core/v1 `Secret`.
public struct Secret: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var immutable: Bool?
    /// Values are base64 text.
    public var data: [String: String]?
    /// Plain-text values, merged into `data` on write.
    public var stringData: [String: String]?
    /// `Opaque`, `kubernetes.io/tls`, `kubernetes.io/dockerconfigjson`, …
    public var type: String?

    public init(metadata: ObjectMeta? = nil) {
        self.apiVersion = "v1"
        self.kind = "Secret"
        self.metadata = metadata
    }
}
