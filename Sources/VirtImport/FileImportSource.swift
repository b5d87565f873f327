/// Where an import reads its image from when the bytes are already on this machine: a local file (the
/// disk the node agent found in a registry image, for CDI's `source.registry`) or standard input (an
/// upload streamed in). The bytes are read once, front to back, and never seeked, so a pipe serves as
/// well as a file.
public struct FileImportSource: Sendable, Equatable {
    /// The `path` that means standard input.
    public static let standardInput = "-"

    /// The file to read, or `-` for standard input.
    public var path: String
    /// What the bytes must hash to (`sha256:…`), as for a download; nil: not checked.
    public var checksum: ImportChecksum?
    /// Where the bytes came from, for the marker (`docker://registry/repo:tag`); nil: the file itself.
    public var origin: String?

    public init(path: String, checksum: ImportChecksum? = nil, origin: String? = nil) {
        self.path = path
        self.checksum = checksum
        self.origin = origin
    }

    /// Whether the bytes come from standard input.
    public var isStandardInput: Bool { path == Self.standardInput }

    /// The source as the marker records it: the origin, else `file://PATH` or `stdin`.
    public var markerSource: String { origin ?? (isStandardInput ? "stdin" : "file://\(path)") }

    /// The source in error messages.
    var displayName: String { isStandardInput ? "standard input" : path }
}
