/// How far an import is: bytes downloaded against the size the server announced.
public struct ImportProgress: Sendable, Equatable, CustomStringConvertible {
    /// Bytes of the source read so far (as downloaded, before decompression).
    public var bytesRead: Int64
    /// The source's `Content-Length`, when the server sent one.
    public var totalBytes: Int64?
    /// True once the image is complete in the target and its marker written.
    public var isComplete: Bool

    public init(bytesRead: Int64, totalBytes: Int64?, isComplete: Bool = false) {
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
        self.isComplete = isComplete
    }

    /// Hundredths of a percent, 0...10000; nil when the total is unknown (and the import not complete).
    public var basisPoints: Int? {
        if isComplete { return 10_000 }
        guard let totalBytes, totalBytes > 0 else { return nil }
        return Int(min(bytesRead, totalBytes) * 10_000 / totalBytes)
    }

    /// CDI's `status.progress`: `"NN.NN%"`, or `"N/A"` when the size is unknown.
    public var description: String {
        guard let basisPoints else { return "N/A" }
        let hundredths = basisPoints % 100
        return "\(basisPoints / 100).\(hundredths < 10 ? "0" : "")\(hundredths)%"
    }
}
