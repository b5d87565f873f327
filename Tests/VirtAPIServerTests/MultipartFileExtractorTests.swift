import Testing
import VirtError
import VirtTestSupport

@testable import VirtAPIServer

/// The file part of a multipart upload, cut out of the stream however the body is split into pieces.
@Suite struct MultipartFileExtractorTests {
    static func form(_ file: [UInt8], boundary: String = "XyZ123") -> [UInt8] {
        Array("preamble\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.img\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            + file + Array("\r\n--\(boundary)--\r\nepilogue".utf8)
    }

    static func extract(_ body: [UInt8], pieces: [Int], boundary: String = "XyZ123") throws(VirtError) -> [UInt8] {
        var extractor = MultipartFileExtractor(boundary: boundary)
        var output: [UInt8] = []
        var rest = body[...]
        var index = 0
        while !rest.isEmpty {
            let count = min(rest.count, max(1, pieces[index % pieces.count]))
            output += try extractor.feed(rest.prefix(count))
            rest = rest.dropFirst(count)
            index += 1
        }
        try extractor.finish()
        return output
    }

    @Test func theFileIsCutOutWhateverThePieces() throws {
        // File bytes that look like the start of a delimiter, and a CRLF at the end of the file itself.
        let file = Array("data\r\n--XyZ12 almost\r\n-".utf8) + (0..<3000).map { UInt8($0 % 256) } + Array("\r\n".utf8)
        for pieces in [[1], [2, 3], [7], [64], [4096], [1, 100, 5]] {
            #expect(try Self.extract(Self.form(file), pieces: pieces) == file, "pieces \(pieces)")
        }
        // No preamble: the body opens with the delimiter.
        let bare = Array("--b\r\n\r\nabc\r\n--b--\r\n".utf8)
        #expect(try Self.extract(bare, pieces: [1], boundary: "b") == Array("abc".utf8))
    }

    @Test func aBodyCutBeforeTheClosingDelimiterFails() {
        let body = Self.form(Array(repeating: 7, count: 1000))
        let error = #expect(throws: VirtError.self) { try Self.extract(Array(body.prefix(600)), pieces: [100]) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains("cut off") == true)
        #expect(throws: VirtError.self) { try Self.extract(Array(repeating: 65, count: 70_000), pieces: [1000]) }
    }

    @Test func theBoundaryComesFromTheContentType() {
        #expect(MultipartFileExtractor.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartFileExtractor.boundary(contentType: "Multipart/Form-Data;boundary=\"a b\"") == "a b")
        #expect(MultipartFileExtractor.boundary(contentType: "application/octet-stream") == nil)
        #expect(MultipartFileExtractor.boundary(contentType: "multipart/form-data") == nil)
        #expect(MultipartFileExtractor.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil)
    }

    /// Untrusted input: any bytes in any pieces extract a file or fail with a 400; none traps.
    @Test func mutatedFormsExtractOrFail() {
        var fuzzer = Fuzzer(seed: 0x5EED_0C02)
        let seed = Self.form(Array("the image".utf8))
        let tokens: [[UInt8]] = ["\r\n", "--", "--XyZ123", "\r\n--XyZ123", "\r\n\r\n", "--XyZ123--"].map { Array($0.utf8) }
        for _ in 0..<3_000 {
            let body = fuzzer.mutate(seed, tokens: tokens)
            let pieces = [1 + fuzzer.below(40), 1 + fuzzer.below(4)]
            do {
                let file = try Self.extract(body, pieces: pieces)
                #expect(file.count <= body.count)
            } catch {
                #expect(error.code == .badRequest)
            }
        }
    }
}
