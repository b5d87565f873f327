import Testing

@testable import VirtImport

/// Progress text, checksum syntax, and which failures are worth a retry.
@Suite struct ImportValuesTests {
    @Test func progressReadsAsCDIsStatusProgress() {
        #expect(ImportProgress(bytesRead: 0, totalBytes: 1000).description == "0.00%")
        #expect(ImportProgress(bytesRead: 1, totalBytes: 3).description == "33.33%")
        #expect(ImportProgress(bytesRead: 605, totalBytes: 10_000).description == "6.05%")
        #expect(ImportProgress(bytesRead: 10_000, totalBytes: 10_000).description == "100.00%")
        #expect(ImportProgress(bytesRead: 5, totalBytes: nil).description == "N/A")
        #expect(ImportProgress(bytesRead: 5, totalBytes: nil, isComplete: true).description == "100.00%")
    }

    @Test func checksumsParseAsCDIWritesThem() throws {
        let sha = try ImportChecksum("sha256:" + String(repeating: "A", count: 64))
        #expect(sha.algorithm == .sha256)
        #expect(sha.description == "sha256:" + String(repeating: "a", count: 64))
        #expect(try ImportChecksum("md5:" + String(repeating: "0", count: 32)).algorithm == .md5)
        #expect(try ImportChecksum("sha1:" + String(repeating: "0", count: 40)).algorithm == .sha1)
        #expect(try ImportChecksum("sha512:" + String(repeating: "0", count: 128)).algorithm == .sha512)
        #expect(throws: ImportError.invalidSource("checksum \"sha256:xyz\": a sha256 digest is 64 hex digits")) {
            try ImportChecksum("sha256:xyz")
        }
        #expect(throws: ImportError.self) { try ImportChecksum("nocolon") }
    }

    @Test func hashesMatchKnownDigests() {
        let bytes = Array("abc".utf8)
        for (algorithm, expected) in [
            (ImportChecksum.Algorithm.md5, "900150983cd24fb0d6963f7d28e17f72"),
            (.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ] {
            var hasher = ImportHasher(algorithm)
            bytes.withUnsafeBytes { hasher.update($0) }
            #expect(hasher.finalize() == expected)
        }
    }

    @Test func retriesAreForPassingTrouble() {
        #expect(ImportError.httpStatus(url: "u", code: 503, reason: "Service Unavailable").isRetryable)
        #expect(ImportError.httpStatus(url: "u", code: 429, reason: "Too Many Requests").isRetryable)
        #expect(!ImportError.httpStatus(url: "u", code: 404, reason: "Not Found").isRetryable)
        #expect(ImportError.truncated(url: "u", expected: 10, received: 5).isRetryable)
        #expect(ImportError.transport(url: "u", detail: "refused").isRetryable)
        #expect(!ImportError.checksumMismatch(expected: "a", actual: "b").isRetryable)
        #expect(!ImportError.corruptImage(format: "qcow2", detail: "x").isRetryable)
        #expect(!ImportError.targetTooSmall(virtualSize: 2, volumeSize: 1, exact: true).isRetryable)
        #expect(!ImportError.diskFull(path: "/v").isRetryable)
        #expect(
            ImportError.targetTooSmall(virtualSize: 2048, volumeSize: 1024, exact: true).description
                == "the image's virtual size 2048 is larger than the volume's 1024: ask for a volume of at least 2048 bytes")
        #expect(ImportError.httpStatus(url: "http://h/x", code: 404, reason: "Not Found").description == "GET http://h/x answered 404 Not Found: check the URL")
    }
}
