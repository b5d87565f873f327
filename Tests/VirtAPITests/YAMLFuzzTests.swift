import Testing
import VirtTestSupport
import VirtError

@testable import VirtAPI

/// The YAML reader the API uses on `application/yaml` bodies and apply patches: every input reads as
/// documents or is a 400; none traps.
@Suite struct YAMLFuzzTests {
    static let seeds: [String] = [
        """
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata:
          name: fuzz
          labels: {app: web, "quoted": 'single'}
          annotations:
            text: |
              line one
              line two
            folded: >-
              folded
              text
        spec:
          runStrategy: Halted
          template:
            spec:
              domain:
                cpu: {cores: 2}
                memory: {guest: 128Mi}
                devices:
                  disks:
                  - name: root
                    disk: {bus: virtio}
              volumes:
              - name: root
                containerDisk:
                  image: /images/disk.qcow2
        # a comment
        """,
        """
        %YAML 1.1
        ---
        numbers: [0x1F, 0o17, 017, 1_000, +12, -.inf, .nan, 1e3, 6.02e+23, ~, null, yes, off, "1", '2']
        times: [12:30, 1:2:3, 2001-12-14t21:59:43.10-05:00]
        ? complex
        : "\\u00e9 \\x41 \\t"
        ...
        ---
        - [a, b]
        - {c: d}
        - !!str abc
        """,
    ]

    /// YAML syntax to splice in: indicators, anchors and aliases, tags, directives, document markers,
    /// base-60 and over-long numbers, line breaks of every kind, bytes that are not text.
    static let tokens: [[UInt8]] = [
        ": ", "- ", "\n", "\n  ", "\n    - ", "{", "}", "[", "]", ",", "&a ", "*a", "&a [1, *a]", "!!str ", "!!binary ",
        "!!int ", "!!float ", "!!map ", "!<tag:yaml.org,2002:int> ", "!local ", "? ", "|", "|-", ">+", "|9", "'", "''", "\"",
        "\\", "\\x", "\\u", "\\U0010FFFF", "\\ud800", "#", "%YAML 1.2\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "<<: ",
        "<<: *a", "1:2:3:4:5:6:7:8:9:10:11:12", "9223372036854775807:59", "-9223372036854775808:1", "0x" + String(repeating: "F", count: 20),
        "0b" + String(repeating: "1", count: 70), String(repeating: "9", count: 30), "1e99999", ".inf", "~", "\t", "\r\n", "\r",
        "\u{2028}", "\u{85}", "\u{FEFF}", String(repeating: "[", count: 40), String(repeating: "- ", count: 40),
    ].map { Array($0.utf8) } + [[0x00], [0x01], [0x1B], [0x7F], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80]]

    /// Reads `bytes` as the API does; returns whether they read. A failure must be the 400 the API sends.
    static func check(_ bytes: [UInt8]) -> Bool {
        do {
            let documents = try JSONValue.parseYAMLDocuments(String(decoding: bytes, as: UTF8.self))
            for document in documents {
                _ = try? decodeTracking(VirtualMachine.self, from: document)
            }
            return true
        } catch {
            #expect(error.code == .badRequest, "\(error)")
            return false
        }
    }

    @Test func validDocumentsRead() throws {
        let vm = try JSONValue.parseYAML(Self.seeds[0])
        #expect(try decodeTracking(VirtualMachine.self, from: vm).value.metadata?.name == "fuzz")
        #expect(vm[path: ["metadata", "annotations", "text"]] == "line one\nline two\n")
        #expect(vm[path: ["metadata", "labels", "quoted"]] == "single")
        let documents = try JSONValue.parseYAMLDocuments(Self.seeds[1])
        #expect(documents.count == 2)
        #expect(documents.first?["numbers"]?.arrayValue?.prefix(5) == [31, 15, 15, 1_000, 12])
        #expect(documents.last == [["a", "b"], ["c": "d"], "abc"])
    }

    /// Scalars with colons are strings, as Kubernetes reads them: a base-60 reading overflowed (and
    /// trapped) on `1:2:3:4:5:6:7:8:9:10:11`.
    @Test func scalarsWithColonsAreStrings() throws {
        let value = try JSONValue.parseYAML("a: 1:2:3:4:5:6:7:8:9:10:11\nb: 9223372036854775807:59\nc: 12:30\nd: -1:0.5\n")
        #expect(value == ["a": "1:2:3:4:5:6:7:8:9:10:11", "b": "9223372036854775807:59", "c": "12:30", "d": "-1:0.5"])
    }

    @Test func nestingPastTheLimitIsA400() {
        for deep in [String(repeating: "[", count: 100_000), String(repeating: "- ", count: 100_000) + "x",
                     String(repeating: "{a: ", count: 100_000)] {
            let error = #expect(throws: VirtError.self) { try JSONValue.parseYAML(deep) }
            #expect(error?.code == .badRequest)
        }
        let limit = String(repeating: "[", count: 900) + String(repeating: "]", count: 900)
        #expect((try? JSONValue.parseYAML(limit)) != nil)
    }

    @Test func randomBytesReadOrThrow() {
        var fuzzer = Fuzzer(seed: 0x5EED_0201)
        let alphabet = Array("-:?,[]{}#&*!|>'\"%@` \n\tabc019.~".utf8) + [0x00, 0x80, 0xFF]
        var read = 0
        for _ in 0..<2_500 {
            if Self.check(fuzzer.bytes(maxCount: 48, alphabet: alphabet)) { read += 1 }
        }
        #expect(read > 0)
    }

    @Test func mutatedDocumentsReadOrThrow() {
        var fuzzer = Fuzzer(seed: 0x5EED_0202)
        let seeds = Self.seeds.map { Array($0.utf8) }
        var read = 0
        for round in 0..<2_500 {
            if Self.check(fuzzer.mutate(seeds[round % seeds.count], tokens: Self.tokens)) { read += 1 }
        }
        #expect(read > 100, "\(read) of 2500 read")
    }
}
