/// What fills a volume for a DataVolume: the node agent's importer runtime (``ImporterProcess`` runs
/// `swiftvirt-importer`; unit tests fake it).
public protocol VolumeImporter: Sendable {
    /// Runs one import to its end, calling `progress` with CDI's `"NN.NN%"` as it goes.
    func run(_ request: VolumeImportRequest, progress: @escaping @Sendable (String) async -> Void) async -> VolumeImportOutcome
}

/// One import: the source, the target file and its size, and where its marker goes.
public struct VolumeImportRequest: Sendable, Equatable {
    /// `http`, `registry` or `blank`.
    public var source: String
    /// The http URL, or the registry source's `docker://` reference.
    public var url: String?
    /// A local file to import instead of `url` (`-`: standard input), e.g. the disk of a pulled registry image.
    public var file: String?
    /// The registry source's `platform.architecture` (nil: the node's own).
    public var architecture: String?
    /// `ALGORITHM:HEX`.
    public var checksum: String?
    /// `Name: value` lines.
    public var headers: [String]
    /// Basic-auth credentials (the Secret's `accessKeyId` and `secretKey`).
    public var username: String?
    public var password: String?
    /// A PEM bundle of CAs to trust (the certConfigMap's values).
    public var caBundlePEM: String?
    /// Accept any server certificate.
    public var insecureSkipVerify = false
    /// The raw file to write.
    public var target: String
    /// The volume's size in bytes.
    public var size: Int64
    /// Where the importer's own log goes (beside the target).
    public var logPath: String

    public init(source: String, url: String? = nil, checksum: String? = nil, headers: [String] = [], username: String? = nil, password: String? = nil,
                caBundlePEM: String? = nil, target: String, size: Int64, logPath: String) {
        self.source = source
        self.url = url
        self.checksum = checksum
        self.headers = headers
        self.username = username
        self.password = password
        self.caBundlePEM = caBundlePEM
        self.target = target
        self.size = size
        self.logPath = logPath
    }
}

/// How an import ended.
public enum VolumeImportOutcome: Sendable, Equatable {
    /// The image is complete and its marker written.
    case succeeded
    /// It failed, with the importer's reason and message; `retryable` when trying again may help.
    case failed(reason: String, message: String, retryable: Bool)
}
