import Testing
import VirtError

@testable import VirtAPI

@Suite struct JSONValueTests {
    // MARK: - Round trips

    @Test func roundTripsANestedDocument() throws {
        let text = #"{"apiVersion":"kubevirt.io/v1","kind":"VirtualMachine","metadata":{"labels":{"a":"b"},"name":"vm1"},"spec":{"running":true,"template":{"spec":{"domain":{"cpu":{"cores":2},"devices":{"disks":[{"disk":{"bus":"virtio"},"name":"root"}]},"memory":{"guest":"1Gi"}}}}},"status":{"ratio":0.25,"unset":null}}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == text)
        #expect(try JSONValue.parse(value.serialized()) == value)
        #expect(try JSONValue.parse(value.serializedBytes()) == value)
    }

    @Test func serializesCompactlyWithSortedKeys() throws {
        let value = try JSONValue.parse(" { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { \"d\" : true , \"c\" : null } } ")
        #expect(value.serialized() == #"{"a":{"c":null,"d":true},"b":[1,2]}"#)
    }

    @Test(arguments: ["null", "true", "false", "0", "-1", "\"\"", "[]", "{}", "[[],{}]", "\"text\""])
    func scalarsAndEmptyContainersRoundTrip(text: String) throws {
        #expect(try JSONValue.parse(text).serialized() == text)
    }

    // MARK: - Strings and escapes

    @Test func readsEveryEscape() throws {
        let value = try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac""#)
        #expect(value == .string("\"\\/\u{08}\u{0C}\n\r\tAé€"))
    }

    @Test func readsSurrogatePairs() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""a\uD834\uDD1Eb""#) == .string("a𝄞b"))
    }

    @Test func rejectsUnpairedSurrogates() {
        #expect(throws: VirtError.self) { try JSONValue.parse(#""\ud83d""#) }
        #expect(throws: VirtError.self) { try JSONValue.parse(#""\ud83dx""#) }
        #expect(throws: VirtError.self) { try JSONValue.parse(#""\ud83d\u0041""#) }
        #expect(throws: VirtError.self) { try JSONValue.parse(#""\ude00""#) }
    }

    @Test func keepsNonASCIITextAsIs() throws {
        let value = try JSONValue.parse("\"héllo wörld 😀 日本\"")
        #expect(value == .string("héllo wörld 😀 日本"))
        #expect(value.serialized() == "\"héllo wörld 😀 日本\"")
    }

    @Test func escapesWhatMustBeEscaped() throws {
        let value = JSONValue.string("q\"b\\n\nr\rt\tb\u{08}f\u{0C}c\u{01}\u{1F}/é")
        #expect(value.serialized() == #""q\"b\\n\nr\rt\tb\bf\fc\u0001\u001f/é""#)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test func escapesObjectKeys() throws {
        let value: JSONValue = ["a\"b": 1, "line\nbreak": 2]
        #expect(value.serialized() == #"{"a\"b":1,"line\nbreak":2}"#)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    // MARK: - Numbers

    @Test func integersAndDoublesStayApart() throws {
        #expect(try JSONValue.parse("1") == .int(1))
        #expect(try JSONValue.parse("-42") == .int(-42))
        #expect(try JSONValue.parse("1.0") == .double(1.0))
        #expect(try JSONValue.parse("1.5") == .double(1.5))
        #expect(try JSONValue.parse("1e2") == .double(100))
        #expect(try JSONValue.parse("2.5E+1") == .double(25))
        #expect(try JSONValue.parse("1e-2") == .double(0.01))
        #expect(try JSONValue.parse("-0") == .int(0))
    }

    @Test func int64Limits() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(Int64.min))
        // Beyond Int64 a number is kept as a double rather than rejected.
        #expect(try JSONValue.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(JSONValue.int(Int64.max).serialized() == "9223372036854775807")
    }

    @Test func serializesNumbers() {
        #expect(JSONValue.int(7).serialized() == "7")
        #expect(JSONValue.double(0.5).serialized() == "0.5")
        #expect(JSONValue.double(-1.25).serialized() == "-1.25")
        // Integral doubles print without a fraction, as Go's encoding/json does.
        #expect(JSONValue.double(2).serialized() == "2")
        // Non-finite numbers have no JSON form.
        #expect(JSONValue.double(.infinity).serialized() == "null")
        #expect(JSONValue.double(.nan).serialized() == "null")
    }

    @Test(arguments: [0.1, 1e20, 1.5e-7, -3.75, 123456.789])
    func doublesRoundTrip(number: Double) throws {
        #expect(try JSONValue.parse(JSONValue.double(number).serialized()).doubleValue == number)
    }

    @Test func accessors() throws {
        let value = try JSONValue.parse(#"{"n":3.0,"i":2,"s":"x","b":false,"a":[1],"o":{}}"#)
        #expect(value["n"]?.intValue == 3)
        #expect(value["i"]?.doubleValue == 2)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["b"]?.boolValue == false)
        #expect(value["a"]?.arrayValue == [1])
        #expect(value["o"]?.objectValue == [:])
        #expect(value["missing"] == nil)
        #expect(value["s"]?.intValue == nil)
        #expect(value.typeName == "object")
        #expect(value["i"]?.typeName == "number")
    }

    @Test func pathSubscriptCreatesIntermediateObjects() {
        var value: JSONValue = ["metadata": ["name": "vm1"]]
        value[path: ["metadata", "labels", "app"]] = "web"
        #expect(value[path: ["metadata", "labels", "app"]] == "web")
        #expect(value[path: ["metadata", "name"]] == "vm1")
        value[path: ["metadata", "name"]] = nil
        #expect(value == ["metadata": ["labels": ["app": "web"]]])
    }

    // MARK: - Malformed input

    @Test(arguments: [
        ("", "malformed JSON at byte 0: the body is empty; send a JSON or YAML object"),
        (" \n\t ", "malformed JSON at byte 4: the body is empty; send a JSON or YAML object"),
        ("[1,]", "malformed JSON at byte 3: unexpected character ']'"),
        (#"{"a":1,}"#, "malformed JSON at byte 7: expected a quoted object key"),
        (#""abc"#, "malformed JSON at byte 4: unterminated string"),
        (#"{"a":1,"a":2}"#, #"malformed JSON at byte 12: duplicate field "a""#),
        ("[1] x", "malformed JSON at byte 4: unexpected data after the JSON value"),
    ])
    func malformedInputNamesTheByte(text: String, message: String) {
        let error = #expect(throws: VirtError.self) { try JSONValue.parse(text) }
        #expect(error?.code == .badRequest)
        #expect(error?.message == message)
    }

    @Test(arguments: [
        "[1,2", "{", #"{"a""#, #"{"a":"#, #"{"a" 1}"#, "[1 2]", "{'a':1}", "{a:1}", "nul", "tru", "True", "NaN",
        "Infinity", "+1", ".5", "-", "--1", "1.5.5", "1e", "0x10", #""\x""#, "\"a\u{01}b\"", "\"tab\tin\"", #""\u12""#,
        "true false", "[] []", "//comment\n1", "[1,,2]", "{,}", "[,]", #"{"a":1 "b":2}"#,
    ])
    func rejectsMalformedInput(text: String) {
        let error = #expect(throws: VirtError.self) { try JSONValue.parse(text) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.hasPrefix("malformed JSON at byte ") == true)
    }

    @Test func rejectsTooDeepNesting() throws {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: VirtError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        _ = try JSONValue.parse(fine)
    }

    @Test func rejectsNumbersRFC8259Forbids() throws {
        // RFC 8259 allows neither leading zeros nor a fraction without digits.
        #expect(throws: VirtError.self) { try JSONValue.parse("01") }
        #expect(throws: VirtError.self) { try JSONValue.parse("1.") }
        #expect(throws: VirtError.self) { try JSONValue.parse("-01") }
        #expect(throws: VirtError.self) { try JSONValue.parse("1.e5") }
        #expect(throws: VirtError.self) { try JSONValue.parse("1e") }
        #expect(try JSONValue.parse("-0.5e+2") == .double(-50))
        #expect(try JSONValue.parse("0") == .int(0))
    }
}
