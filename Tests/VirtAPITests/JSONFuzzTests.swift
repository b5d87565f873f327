import Testing
import VirtTestSupport
import VirtError

@testable import VirtAPI

/// The JSON reader the API uses on request bodies, and the typed reads admission and the node agent run on
/// what it parsed (`JSONObjectReader` for the VM kinds, `JSONValueDecoder` for the `Codable` ones): every
/// input parses or is a 400, every parsed value decodes or is refused with a field error; none traps.
@Suite struct JSONFuzzTests {
    static let seeds: [String] = [
        #"""
        {"apiVersion":"kubevirt.io/v1","kind":"VirtualMachine","metadata":{"name":"fuzz","namespace":"default",
         "labels":{"app":"web"},"annotations":{"note":"a \"quoted\" \\ value \u00e9 \ud83d\ude00 \/ \b\f\n\r\t"}},
         "spec":{"runStrategy":"Halted","template":{"metadata":{"labels":{"kubevirt.io/vm":"fuzz"}},"spec":{
          "domain":{"cpu":{"cores":2,"sockets":1},"memory":{"guest":"128Mi"},"resources":{"requests":{"memory":"1Gi","cpu":0.5}},
           "devices":{"disks":[{"name":"root","disk":{"bus":"virtio"},"bootOrder":1}],"interfaces":[{"name":"default","masquerade":{}}]}},
          "networks":[{"name":"default","pod":{}}],"terminationGracePeriodSeconds":30,
          "volumes":[{"name":"root","containerDisk":{"image":"/images/disk.qcow2"}}]}}}}
        """#,
        #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u-1","generation":1},
         "spec":{"nodeName":"n1","terminationGracePeriodSeconds":30,"containers":[{"name":"c","image":"i","command":["sh","-c","echo"]}]},
         "status":{"phase":"Running","podIPs":[{"ip":"10.0.0.2"}]}}
        """#,
        #"""
        [0,-0,1,-1,9223372036854775807,-9223372036854775808,9223372036854775808,1.5,-2.5e-3,1E+308,5e-324,1e400,
         true,false,null,"",{},[],[[]],{"a":{"b":[{"c":null}]}}," \u0000 \u001f "]
        """#,
    ]

    /// JSON syntax to splice in: brackets, escapes (lone surrogates too), numbers at and past every
    /// limit, bytes that are not UTF-8, and members of the kinds with the wrong types.
    static let tokens: [[UInt8]] = [
        "{", "}", "[", "]", "\"", ":", ",", "\\", "\\u", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\u0000", "-", "0", "00",
        ".", "e", "1e", "1e999999999", "-1e-999999999", "true", "null", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "1.7976931348623157e309", "0.0000000000000000000000000000001", "4294967296",
        #""metadata":"#, #""name":1"#, #""cores":-1"#, #""cores":1e20"#, #""memory":"1e999999Ei""#,
        #""guest":"99999999999999999999999999999999999999999999Ei""#, #""spec":null"#, #""disks":{}"#,
        #""containers":[1]"#, String(repeating: "[", count: 600), String(repeating: "{\"a\":", count: 600),
    ].map { Array($0.utf8) } + [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x00], [0x1F], [0x7F]]

    /// Parses `bytes` and, when they parse, reads the value as the kinds the API decodes. Returns whether
    /// they parsed; a failure must be the 400 the API edge sends.
    static func check(_ bytes: [UInt8]) -> Bool {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            #expect(error.code == .badRequest, "\(error)")
            return false
        }
        // What parses serializes to JSON that parses again.
        #expect((try? JSONValue.parse(value.serialized())) != nil, "\(value)")
        read(value)
        return true
    }

    /// Reads `value` as the VM kinds (field by field) and the `Codable` ones: it decodes or throws.
    static func read(_ value: JSONValue) {
        _ = try? decodeTracking(VirtualMachine.self, from: value)
        _ = try? decodeTracking(VirtualMachineInstance.self, from: value)
        _ = try? decodeTracking(Pod.self, from: value)
        _ = try? JSONValueDecoder().decodeChecked(Node.self, from: value)
        _ = try? JSONValueDecoder().decode(Pod.self, from: value)
    }

    @Test func validDocumentsParseAndDecode() throws {
        let vm = try JSONValue.parse(Self.seeds[0])
        let typed = try decodeTracking(VirtualMachine.self, from: vm)
        #expect(typed.value.metadata?.name == "fuzz")
        #expect(typed.unknownFields.isEmpty, "\(typed.unknownFields)")
        #expect(vm[path: ["metadata", "annotations", "note"]] == "a \"quoted\" \\ value é 😀 / \u{08}\u{0C}\n\r\t")
        let pod = try JSONValueDecoder().decode(Pod.self, from: try JSONValue.parse(Self.seeds[1]))
        #expect(pod.spec?.containers.first?.command == ["sh", "-c", "echo"])
        let numbers = try JSONValue.parse(Self.seeds[2])
        #expect(numbers.arrayValue?.count == 21)
        #expect(numbers.arrayValue?[4] == .int(.max))
        #expect(numbers.arrayValue?[6] == .double(9_223_372_036_854_775_808))
    }

    @Test func nestingPastTheLimitIsA400() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
        let error = #expect(throws: VirtError.self) { try JSONValue.parse(deep) }
        #expect(error?.message.contains("nesting too deep") == true)
        let limit = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect((try? JSONValue.parse(limit)) != nil)
    }

    @Test func randomBytesParseOrThrow() {
        var fuzzer = Fuzzer(seed: 0x5EED_0101)
        let alphabet = Array(#"{}[]":,.-+0123456789eEtrufalsn\ "#.utf8) + [0x0A, 0x80, 0xFF]
        var parsed = 0
        for _ in 0..<5_000 {
            if Self.check(fuzzer.bytes(maxCount: 48, alphabet: alphabet)) { parsed += 1 }
        }
        #expect(parsed > 0)
    }

    @Test func mutatedDocumentsParseOrThrow() {
        var fuzzer = Fuzzer(seed: 0x5EED_0102)
        let seeds = Self.seeds.map { Array($0.utf8) }
        var parsed = 0
        for round in 0..<4_000 {
            if Self.check(fuzzer.mutate(seeds[round % seeds.count], tokens: Self.tokens)) { parsed += 1 }
        }
        // Mutations that keep the text JSON (a changed digit or letter) reach the typed reads.
        #expect(parsed > 200, "\(parsed) of 4000 parsed")
    }

    /// Typed reads on parsed values with a member swapped for one of another type or at a limit (the
    /// byte mutations rarely keep the text JSON and change a type at once).
    @Test func mutatedValuesDecodeOrThrow() throws {
        var fuzzer = Fuzzer(seed: 0x5EED_0103)
        let seeds = try Self.seeds.prefix(2).map { try JSONValue.parse($0) }
        let palette: [JSONValue] = [
            .null, true, 0, -1, .int(.max), .int(.min), 4_294_967_296, 0.5, -1e300, .double(.infinity), .double(-.infinity),
            .double(.nan), 9.3e18, -9.3e18, "", "-1", "1e999999Ei", "99999999999999999999999999999999999999999999Mi", "0.000000001n",
            "ǅ", [], [:], [[[[1]]]], ["name": 1], [.null],
        ]
        for round in 0..<3_000 {
            var value = seeds[round % seeds.count]
            for _ in 0..<(1 + fuzzer.below(3)) {
                value = Self.replacing(in: value, with: fuzzer.pick(palette), fuzzer: &fuzzer)
            }
            Self.read(value)
        }
    }

    /// `value` with one node, found by a random walk from the root, replaced by `replacement`.
    static func replacing(in value: JSONValue, with replacement: JSONValue, fuzzer: inout Fuzzer) -> JSONValue {
        switch value {
        case .object(var members) where !members.isEmpty && fuzzer.chance(85):
            let key = members.keys.sorted()[fuzzer.below(members.count)]
            members[key] = replacing(in: members[key] ?? .null, with: replacement, fuzzer: &fuzzer)
            return .object(members)
        case .array(var items) where !items.isEmpty && fuzzer.chance(85):
            let index = fuzzer.below(items.count)
            items[index] = replacing(in: items[index], with: replacement, fuzzer: &fuzzer)
            return .array(items)
        default:
            return replacement
        }
    }
}
