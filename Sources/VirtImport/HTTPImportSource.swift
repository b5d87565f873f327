/// Where an import reads its image from: CDI's `spec.source.http` of a DataVolume.
public struct HTTPImportSource: Sendable, Equatable {
    /// Basic-auth credentials (CDI's `secretRef`, keys `accessKeyId` and `secretKey`).
    public struct Credentials: Sendable, Equatable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// An `http://` or `https://` URL of the image.
    public var url: String
    public var credentials: Credentials?
    /// Extra request headers (CDI's `extraHeaders` and `secretExtraHeaders`), as name and value.
    public var headers: [(name: String, value: String)]
    /// PEM certificates trusted for `https` instead of the system's (CDI's `certConfigMap`).
    public var caBundlePEM: String?
    /// Accept any server certificate (CDI's `insecureSkipVerify`).
    public var insecureSkipVerify: Bool
    /// What the downloaded bytes must hash to (CDI's `checksum`, `sha256:…`).
    public var checksum: ImportChecksum?

    public init(
        url: String, credentials: Credentials? = nil, headers: [(name: String, value: String)] = [],
        caBundlePEM: String? = nil, insecureSkipVerify: Bool = false, checksum: ImportChecksum? = nil
    ) {
        self.url = url
        self.credentials = credentials
        self.headers = headers
        self.caBundlePEM = caBundlePEM
        self.insecureSkipVerify = insecureSkipVerify
        self.checksum = checksum
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.url == rhs.url && lhs.credentials == rhs.credentials
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
            && lhs.caBundlePEM == rhs.caBundlePEM && lhs.insecureSkipVerify == rhs.insecureSkipVerify
            && lhs.checksum == rhs.checksum
    }
}
