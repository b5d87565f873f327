import VirtAPI

/// What `qemu-img info --output=json` says about an image.
public struct ImageInfo: Sendable, Equatable {
    /// The file qemu-img opened.
    public var filename: String
    public var format: ImageFormat
    /// The size the guest sees, in bytes.
    public var virtualSize: Int64
    /// The bytes the image occupies on disk (less than the file size when sparse); absent for some protocols.
    public var actualSize: Int64?
    /// The backing file as recorded in the image header (may be relative to the image).
    public var backingFile: String?
    /// The backing file resolved to an absolute path.
    public var fullBackingFile: String?
    /// The backing file's format, when the header records it.
    public var backingFormat: ImageFormat?
    /// qcow2: the image was not closed cleanly (lazy refcounts).
    public var dirty: Bool
    /// Other files the image reads its data from: a VMDK's extents, a qcow2's external data file. An
    /// image from an untrusted source must name none but itself.
    public var externalFiles: [String] = []

    public init(
        filename: String, format: ImageFormat, virtualSize: Int64, actualSize: Int64? = nil,
        backingFile: String? = nil, fullBackingFile: String? = nil, backingFormat: ImageFormat? = nil, dirty: Bool = false
    ) {
        self.filename = filename
        self.format = format
        self.virtualSize = virtualSize
        self.actualSize = actualSize
        self.backingFile = backingFile
        self.fullBackingFile = fullBackingFile
        self.backingFormat = backingFormat
        self.dirty = dirty
    }

    /// Parses the JSON object `qemu-img info --output=json` prints for `path`.
    public init(json bytes: [UInt8], path: String) throws(QemuImgError) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .unreadableOutput(path: path, detail: "not JSON: \(error.message)")
        }
        guard value.objectValue != nil else { throw .unreadableOutput(path: path, detail: "expected a JSON object") }
        guard let format = value["format"]?.stringValue else { throw .unreadableOutput(path: path, detail: "no \"format\"") }
        guard let virtualSize = value["virtual-size"]?.intValue else {
            throw .unreadableOutput(path: path, detail: "no \"virtual-size\"")
        }
        self.init(
            filename: value["filename"]?.stringValue ?? path,
            format: ImageFormat(format),
            virtualSize: virtualSize,
            actualSize: value["actual-size"]?.intValue,
            backingFile: value["backing-filename"]?.stringValue,
            fullBackingFile: value["full-backing-filename"]?.stringValue,
            backingFormat: value["backing-filename-format"]?.stringValue.map { ImageFormat($0) },
            dirty: value["dirty-flag"]?.boolValue ?? false)
        let specific = value["format-specific"]?["data"]
        externalFiles = (specific?["extents"]?.arrayValue ?? []).compactMap { $0["filename"]?.stringValue }
        if let dataFile = specific?["data-file"]?.stringValue { externalFiles.append(dataFile) }
    }
}
