import Testing
import VirtTestSupport

@testable import VirtImport

/// The format sniffer on each format's real first bytes, and fuzzed: it must never trap, look past its
/// prefix, or call anything but raw a stream that lacks the format's magic.
@Suite struct FormatSnifferTests {
    static let magics: [(DetectedFormat, Int, [UInt8])] = [
        (.qcow2, 0, [0x51, 0x46, 0x49, 0xFB]), (.vmdk, 0, Array("KDMV".utf8)), (.vmdk, 0, Array("COWD".utf8)),
        (.vmdkDescriptor, 0, Array("# Disk DescriptorFile".utf8)), (.vhdx, 0, Array("vhdxfile".utf8)),
        (.vhd, 0, Array("conectix".utf8)), (.gzip, 0, [0x1F, 0x8B]), (.xz, 0, [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]),
        (.vdi, 0x40, [0x7F, 0x10, 0xDA, 0xBE]),
    ]

    @Test func eachMagicIsRecognised() {
        for (format, offset, magic) in Self.magics {
            var bytes = [UInt8](repeating: 0, count: 512)
            bytes.replaceSubrange(offset..<(offset + magic.count), with: magic)
            #expect(FormatSniffer.sniff(bytes) == format, "\(format)")
            #expect(FormatSniffer.sniff(Array(bytes.prefix(offset + magic.count))) == format, "\(format), short stream")
            #expect(FormatSniffer.sniff(Array(bytes.prefix(offset + magic.count - 1))) == .raw, "\(format), cut magic")
        }
        #expect(FormatSniffer.sniff([]) == .raw)
        #expect(FormatSniffer.sniff([UInt8](repeating: 0, count: 4096)) == .raw)
    }

    @Test func decompressorsAndImageFormats() {
        #expect(DetectedFormat.gzip.decompressor?.commandLine == "gzip -dc")
        #expect(DetectedFormat.xz.decompressor?.commandLine == "xz -dc")
        #expect(DetectedFormat.vhd.imageFormat?.rawValue == "vpc")
        #expect(DetectedFormat.vmdkDescriptor.imageFormat == nil)
    }

    @Test func fuzzedPrefixesNeverTrapAndOnlyTheMagicDecides() {
        var fuzzer = Fuzzer(seed: 0x5EED_1DEA)
        let seeds: [[UInt8]] = Self.magics.map { _, offset, magic in
            var bytes = [UInt8](repeating: 0, count: offset)
            bytes += magic
            return bytes + [UInt8](repeating: 0x20, count: 64)
        }
        let tokens = Self.magics.map(\.2)
        for round in 0..<20_000 {
            let input: [UInt8] =
                round % 3 == 0
                ? fuzzer.bytes(maxCount: 1024, alphabet: tokens.flatMap { $0 })
                : fuzzer.mutate(fuzzer.pick(seeds), tokens: tokens)
            let format = FormatSniffer.sniff(input)
            #expect(format == FormatSniffer.sniff(input[...]), "slices agree")
            #expect(format == FormatSniffer.sniff(Array(input.prefix(FormatSniffer.prefixLength)) + [0xFF]) || input.count <= FormatSniffer.prefixLength, "only the prefix counts")
            if format != .raw {
                let matches = Self.magics.contains { candidate, offset, magic in
                    candidate == format && input.count >= offset + magic.count && Array(input[offset..<(offset + magic.count)]) == magic
                }
                #expect(matches, "\(format) without its magic in \(input.prefix(80))")
            }
        }
    }
}
