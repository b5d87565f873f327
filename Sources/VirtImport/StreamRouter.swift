import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Sends the downloaded bytes where they belong, decided by their first bytes: straight into the image
/// sink, or through a decompressor (`gzip -dc`, `xz -dc`) whose output a dedicated thread reads into
/// the sink, so download, decompression and writing run at once.
///
/// Owned by one import; `deliver` is called from the download task only.
final class StreamRouter: @unchecked Sendable {
    /// The detail of the error a write to a decompressor that stopped reading throws.
    static let filterStopped = "the decompressor stopped reading its input"

    private enum Route {
        case undecided
        case direct(ImageSink)
        case filtered(FilterProcess, ImageSink, DetectedFormat, Task<ImportError?, Never>)
    }

    private let plan: ImageSink.Plan
    private let stderrPath: String
    private var route = Route.undecided
    private var head: [UInt8] = []
    /// The download's `Content-Length`, set before the first byte.
    var expectedLength: Int64?

    init(plan: ImageSink.Plan, stderrPath: String) {
        self.plan = plan
        self.stderrPath = stderrPath
    }

    func deliver(_ bytes: UnsafeRawBufferPointer) throws(ImportError) {
        switch route {
        case .direct(let sink):
            try sink.write(bytes)
        case .filtered(let filter, _, _, _):
            guard try filter.write(bytes) else { throw .tool(Self.filterStopped) }
        case .undecided:
            head.append(contentsOf: bytes)
            if head.count >= FormatSniffer.prefixLength { try decide() }
        }
    }

    /// Ends the input: the image's format, the compression around it, and its length.
    func finish() async throws(ImportError) -> (format: DetectedFormat, compression: DetectedFormat?, length: Int64) {
        if case .undecided = route { try decide() }
        switch route {
        case .undecided:
            throw .tool("the download was never routed")
        case .direct(let sink):
            let (format, length) = try sink.finish()
            return (format, nil, length)
        case .filtered(let filter, let sink, let compression, let reader):
            filter.closeInput()
            let readerError = await reader.value
            let status = await filter.wait()
            if let readerError { throw readerError }
            guard status == 0 else {
                let detail = filter.stderrText
                throw .corruptImage(format: compression.rawValue, detail: detail.isEmpty ? "\(filter.commandLine) exited with \(status)" : detail)
            }
            let (format, length) = try sink.finish()
            return (format, compression, length)
        }
    }

    /// Stops after a failed download: ends a decompressor and returns its reader's error, if any.
    func abort() async -> ImportError? {
        guard case .filtered(let filter, _, _, let reader) = route else { return nil }
        filter.closeInput()
        let readerError = await reader.value
        filter.closeOutput()
        _ = await filter.wait()
        return readerError
    }

    private func decide() throws(ImportError) {
        let format = FormatSniffer.sniff(head)
        var plan = self.plan
        if let decompressor = format.decompressor {
            plan.decompressed = true
            let sink = ImageSink(plan: plan)
            let filter = try FilterProcess.start(decompressor, stderrPath: stderrPath)
            let reader = Task.detached { await Self.drain(filter, into: sink) }
            route = .filtered(filter, sink, format, reader)
        } else {
            plan.expectedLength = expectedLength
            route = .direct(ImageSink(plan: plan))
        }
        let bytes = head
        head = []
        var failure: ImportError?
        bytes.withUnsafeBytes { buffer in
            do throws(ImportError) { try deliver(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads the decompressor's output into the sink on a thread of its own (the reads block); on a
    /// failure it stops reading, so the decompressor ends with EPIPE and the download with it.
    private static func drain(_ filter: FilterProcess, into sink: ImageSink) async -> ImportError? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: StreamWriter.bufferSize)
                var failure: ImportError?
                while failure == nil {
                    let count = buffer.withUnsafeMutableBytes { read(filter.output, $0.baseAddress, $0.count) }
                    if count < 0 {
                        if errno == EINTR { continue }
                        failure = .tool("cannot read from \(filter.commandLine): \(errnoText())")
                        break
                    }
                    if count == 0 { break }
                    buffer.withUnsafeBytes { bytes in
                        do throws(ImportError) { try sink.write(UnsafeRawBufferPointer(rebasing: bytes[0..<count])) } catch { failure = error }
                    }
                }
                if failure != nil { filter.closeOutput() }
                continuation.resume(returning: failure)
            }
        }
    }
}
