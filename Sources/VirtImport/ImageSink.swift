/// Takes the image bytes (after any decompression), tells their format from the first bytes, and writes
/// them: a raw image straight into the target, any other format into the scratch file that qemu-img
/// converts from afterwards (qcow2, VMDK, VDI and VHD(X) need random access to be read).
///
/// Used by one reader at a time (the download task, or the thread that reads a decompressor).
final class ImageSink: @unchecked Sendable {
    /// Where and how the bytes may be written.
    struct Plan {
        var targetPath: String
        var targetIsBlockDevice: Bool
        /// The size the target may hold: the requested size of a file, the size of a block device.
        var volumeSize: Int64?
        var scratchPath: String?
        /// Whether the stream was decompressed (then a second compression layer is refused).
        var decompressed: Bool
        /// The length of the stream when it is the image itself (not decompressed) and the server said it.
        var expectedLength: Int64?
    }

    private let plan: Plan
    private var head: [UInt8] = []
    private var writer: StreamWriter?
    private(set) var format: DetectedFormat?

    init(plan: Plan) { self.plan = plan }

    /// Bytes of the image taken so far.
    var bytesWritten: Int64 { writer.map { $0.offset } ?? Int64(head.count) }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImportError) {
        if let writer {
            try writer.write(bytes)
            return
        }
        head.append(contentsOf: bytes)
        if head.count >= FormatSniffer.prefixLength { try decide() }
    }

    /// Ends the stream: the image's format and its length as streamed.
    func finish() throws(ImportError) -> (format: DetectedFormat, length: Int64) {
        if writer == nil { try decide() }
        guard let writer, let format else { throw .tool("the image writer was not opened") }
        let isFile = !plan.targetIsBlockDevice || format != .raw
        try writer.finish(
            size: format == .raw && !plan.targetIsBlockDevice ? max(writer.offset, plan.volumeSize ?? 0) : nil, isFile: isFile,
            sync: format == .raw)
        return (format, writer.offset)
    }

    private func decide() throws(ImportError) {
        let format = FormatSniffer.sniff(head)
        self.format = format
        switch format {
        case .gzip, .xz:
            if plan.decompressed { throw .unsupportedImage("the image is compressed twice (\(format) inside a compressed file); compress it once") }
            throw .tool("a \(format) stream reached the image writer undecompressed")
        case .vmdkDescriptor:
            throw .unsupportedImage(
                "the file is a VMDK descriptor, whose extents are other files; export a single-file VMDK (monolithicSparse or streamOptimized) or convert it to qcow2")
        case .raw:
            if let volumeSize = plan.volumeSize, let length = plan.expectedLength, length > volumeSize {
                throw .targetTooSmall(virtualSize: length, volumeSize: volumeSize, exact: true)
            }
            writer = try StreamWriter(
                path: plan.targetPath, create: !plan.targetIsBlockDevice, skipZeros: !plan.targetIsBlockDevice, limit: plan.volumeSize)
        default:
            guard let scratch = plan.scratchPath else {
                throw .invalidTarget("a \(format) image must be converted from a scratch file, and no scratch directory was given for \(plan.targetPath)")
            }
            writer = try StreamWriter(path: scratch, create: true, skipZeros: true, limit: nil)
        }
        let bytes = head
        head = []
        guard let writer else { return }
        var failure: ImportError?
        bytes.withUnsafeBytes { buffer in
            do throws(ImportError) { try writer.write(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
