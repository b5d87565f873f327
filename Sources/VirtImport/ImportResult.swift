/// What a finished import did.
public struct ImportResult: Sendable, Equatable {
    /// The image format found in the download (after decompression).
    public var format: DetectedFormat
    /// The compression the download was wrapped in, if any.
    public var compression: DetectedFormat?
    /// The virtual size of the image as imported (before growing to the requested size).
    public var imageSize: Int64
    /// The size of the target afterwards.
    public var targetSize: Int64
    /// Bytes downloaded.
    public var downloadedBytes: Int64
    /// Whether the image went through a scratch file (formats that need random access) or straight in.
    public var usedScratch: Bool
    /// The marker written.
    public var marker: ImportMarker

    public init(
        format: DetectedFormat, compression: DetectedFormat?, imageSize: Int64, targetSize: Int64, downloadedBytes: Int64,
        usedScratch: Bool, marker: ImportMarker
    ) {
        self.format = format
        self.compression = compression
        self.imageSize = imageSize
        self.targetSize = targetSize
        self.downloadedBytes = downloadedBytes
        self.usedScratch = usedScratch
        self.marker = marker
    }
}
