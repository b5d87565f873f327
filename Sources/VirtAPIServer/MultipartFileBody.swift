import NIOCore
import VirtError

/// The file of a `multipart/form-data` upload (CDI's `/v1beta1/upload-form`): the body of its first part,
/// cut out of the stream as it passes, never collected. The preamble and the part's headers may take at
/// most 64 KiB; a body that ends before the closing delimiter is a truncated upload and fails.
struct MultipartFileExtractor {
    enum State { case preamble, headers, data, done }

    let delimiter: [UInt8]
    private(set) var state = State.preamble
    private var held: [UInt8] = []
    static let headLimit = 64 << 10

    /// The boundary of a `multipart/form-data; boundary=…` content type, or nil for another type.
    static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = String(pair[1])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty || value.utf8.count > 70 ? nil : value
        }
        return nil
    }

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body without the line break before it.
        held = Array("\r\n".utf8)
    }

    /// Takes the next bytes of the body; returns the file bytes among them (some are held back until it is
    /// clear they are not the start of the closing delimiter).
    mutating func feed(_ bytes: some Collection<UInt8>) throws(VirtError) -> [UInt8] {
        guard state != .done else { return [] }
        held += bytes
        var output: [UInt8] = []
        while true {
            switch state {
            case .preamble:
                guard let found = held.firstRange(of: delimiter) else {
                    guard held.count <= Self.headLimit else { throw Self.malformed("no \(String(decoding: delimiter.dropFirst(2), as: UTF8.self)) delimiter in the first 64 KiB") }
                    return output
                }
                held.removeSubrange(..<found.upperBound)
                state = .headers
            case .headers:
                guard let end = held.firstRange(of: Array("\r\n\r\n".utf8)) else {
                    guard held.count <= Self.headLimit else { throw Self.malformed("the part's headers do not end in the first 64 KiB") }
                    return output
                }
                held.removeSubrange(..<end.upperBound)
                state = .data
            case .data:
                if let found = held.firstRange(of: delimiter) {
                    output += held[..<found.lowerBound]
                    held = []
                    state = .done
                    return output
                }
                let keep = min(held.count, delimiter.count - 1)
                output += held[..<(held.count - keep)]
                held.removeFirst(held.count - keep)
                return output
            case .done:
                return output
            }
        }
    }

    /// The body ended: only after the file's closing delimiter is the file whole.
    func finish() throws(VirtError) {
        guard state == .done else { throw Self.malformed("the body ended before the file part's closing delimiter: the upload was cut off") }
    }

    static func malformed(_ why: String) -> VirtError {
        VirtError(.badRequest, "the multipart upload is malformed: \(why); send the image as the file field of multipart/form-data, or as the plain body of /v1beta1/upload")
    }
}

/// An upload body seen through ``MultipartFileExtractor``: the file's bytes only.
struct MultipartFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: UploadRequestBody.Sequence
    let boundary: String

    func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), extractor: MultipartFileExtractor(boundary: boundary))
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: UploadRequestBody.Sequence.AsyncIterator
        var extractor: MultipartFileExtractor

        mutating func next() async throws -> ByteBuffer? {
            while extractor.state != .done {
                guard let part = try await base.next() else {
                    try extractor.finish()
                    return nil
                }
                let file = try extractor.feed(part.readableBytesView)
                if !file.isEmpty { return ByteBuffer(bytes: file) }
            }
            return nil
        }
    }
}
