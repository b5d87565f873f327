/// Why an import failed, worded for whoever reads the DataVolume's conditions, and whether trying again
/// may help (CDI retries an import with backoff; a retry of a bad image only fails again).
public enum ImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The source is not usable as given (URL, checksum syntax, credentials).
    case invalidSource(String)
    /// The target is not usable as given (not a file or block device, no scratch space for the format).
    case invalidTarget(String)
    /// The server answered with an error status.
    case httpStatus(url: String, code: Int, reason: String)
    /// The server could not be reached, or the connection failed before the body began.
    case transport(url: String, detail: String)
    /// The body ended before `Content-Length` bytes.
    case truncated(url: String, expected: Int64, received: Int64)
    /// The downloaded bytes do not hash to the expected checksum.
    case checksumMismatch(expected: String, actual: String)
    /// The image cannot be read as its format (qemu-img's or the decompressor's words).
    case corruptImage(format: String, detail: String)
    /// The image is of a kind the importer refuses (a backing file, a VMDK descriptor, nested compression).
    case unsupportedImage(String)
    /// The image needs more room than the volume has.
    case targetTooSmall(virtualSize: Int64, volumeSize: Int64, exact: Bool)
    /// The file system of the target or the scratch file is full.
    case diskFull(path: String)
    /// A read or write of a local file failed.
    case io(path: String, detail: String)
    /// A program the importer needs failed in a way none of the above describes.
    case tool(String)

    /// Whether trying the same import again may succeed: network and server trouble may pass; a bad
    /// image, a wrong checksum or a too-small volume stay as they are until someone changes them.
    public var isRetryable: Bool {
        switch self {
        case .httpStatus(_, let code, _): code >= 500 || code == 408 || code == 429
        case .transport, .truncated, .io, .tool: true
        case .invalidSource, .invalidTarget, .checksumMismatch, .corruptImage, .unsupportedImage, .targetTooSmall, .diskFull:
            false
        }
    }

    /// A CamelCase reason for conditions and events, as CDI's importer pod reports them.
    public var reason: String {
        switch self {
        case .invalidSource: "InvalidSource"
        case .invalidTarget: "InvalidTarget"
        case .httpStatus: "HTTPError"
        case .transport: "TransportError"
        case .truncated: "TruncatedStream"
        case .checksumMismatch: "ChecksumMismatch"
        case .corruptImage: "CorruptImage"
        case .unsupportedImage: "UnsupportedImage"
        case .targetTooSmall: "TargetTooSmall"
        case .diskFull: "DiskFull"
        case .io: "IOError"
        case .tool: "ToolError"
        }
    }

    public var description: String {
        switch self {
        case .invalidSource(let detail): "invalid import source: \(detail)"
        case .invalidTarget(let detail): "invalid import target: \(detail)"
        case .httpStatus(let url, let code, let reason):
            "GET \(url) answered \(code) \(reason)\(Self.statusHint(code))"
        case .transport(let url, let detail): "cannot fetch \(url): \(detail)"
        case .truncated(let url, let expected, let received):
            "the download of \(url) ended after \(received) of \(expected) bytes (Content-Length): the connection was cut; a retry starts over"
        case .checksumMismatch(let expected, let actual):
            "checksum mismatch: expected \(expected), the downloaded bytes hash to \(actual): the image at the URL is not the one the checksum names"
        case .corruptImage(let format, let detail): "the image is not a valid \(format) image: \(detail)"
        case .unsupportedImage(let detail): "unsupported image: \(detail)"
        case .targetTooSmall(let virtualSize, let volumeSize, let exact):
            "the image's virtual size \(exact ? "" : "(at least) ")\(virtualSize) is larger than the volume's \(volumeSize): ask for a volume of at least \(virtualSize) bytes"
        case .diskFull(let path): "no space left on the device of \(path): free space or use a larger volume"
        case .io(let path, let detail): "\(path): \(detail)"
        case .tool(let detail): detail
        }
    }

    private static func statusHint(_ code: Int) -> String {
        switch code {
        case 401, 403: ": check the credentials (secretRef) and that they may read this URL"
        case 404: ": check the URL"
        case 500...: ": the server failed; the import is retried"
        default: ""
        }
    }
}
