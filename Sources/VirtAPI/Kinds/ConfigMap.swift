/// core/v1 `ConfigMap`.
public struct ConfigMap: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var immutable: Bool?
    public var data: [String: String]?
    /// Values are base64 text.
    public var binaryData: [String: String]?

    public init(metadata: ObjectMeta? = nil) {
        self.apiVersion = "v1"
        self.kind = "ConfigMap"
        self.metadata = metadata
    }
}
