/// An OCI content descriptor: what a manifest says of a config, a layer or (in an index) a manifest.
public struct ManifestDescriptor: Codable, Sendable, Equatable {
    public var mediaType: String?
    public var digest: String
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(mediaType: String? = nil, digest: String, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }

    /// The platform of an image index's entry.
    public struct Platform: Codable, Sendable, Equatable, CustomStringConvertible {
        public var architecture: String
        public var os: String
        public var variant: String?

        public init(os: String, architecture: String, variant: String? = nil) {
            self.os = os
            self.architecture = architecture
            self.variant = variant
        }

        /// `os/architecture[/variant]`.
        public var description: String { "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "") }
    }
}
