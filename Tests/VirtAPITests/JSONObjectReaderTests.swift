import Foundation
import Testing
import VirtError

@testable import VirtAPI

/// The kinds that read themselves (`JSONObjectDecodable`) must decode exactly as their `Codable` form did:
/// same values, same unknown fields, same errors.
@Suite struct JSONObjectReaderTests {
    private struct Inner: Codable, Equatable, JSONObjectDecodable {
        var name: String
        var size: Int?
        var tags: [String: String]?
        var extra: JSONValue?

        init(reading object: inout JSONObjectReader) throws {
            name = try object.required("name")
            size = try object.optional("size")
            tags = try object.optional("tags")
            extra = try object.optional("extra")
        }
    }

    private struct Outer: Codable, Equatable, JSONObjectDecodable {
        var enabled: Bool?
        var count: UInt32?
        var ratio: Double?
        var items: [Inner]?
        var child: Inner?
        var marker: EmptyObject?

        init() {}

        init(reading object: inout JSONObjectReader) throws {
            enabled = try object.optional("enabled")
            count = try object.optional("count")
            ratio = try object.optional("ratio")
            items = try object.optional("items")
            child = try object.optional("child")
            marker = try object.optional("marker")
        }
    }

    /// A `Codable` type holding a reading one: the two decoders meet.
    private struct Holder: Codable {
        var meta: ObjectMeta?
        var list: [Inner]?
    }

    private func decodeError<T: Decodable>(_ type: T.Type, _ json: JSONValue) -> VirtError? {
        do throws(VirtError) {
            _ = try decodeTracking(type, from: json)
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownFieldsCarryFullPathsSorted() throws {
        let json = try JSONValue.parse(#"""
            {"enabled": true, "zzz": 1, "items": [{"name": "a"}, {"name": "b", "bogus": 1, "other": {"x": 1}}],
             "child": {"name": "c", "typo": "t", "tags": {"free.form/key": "v"}, "extra": {"any": {"deep": 1}}},
             "marker": {"inside": 1}}
            """#)
        let result = try decodeTracking(Outer.self, from: json)
        #expect(result.unknownFields == ["child.typo", "items[1].bogus", "items[1].other", "marker.inside", "zzz"])
        #expect(result.value.items?.map(\.name) == ["a", "b"])
        #expect(result.value.child?.tags == ["free.form/key": "v"])
        #expect(result.value.child?.extra == ["any": ["deep": 1]])
    }

    @Test func nullMeansAbsentAndCountsAsAsked() throws {
        let result = try decodeTracking(Outer.self, from: ["enabled": nil, "child": nil, "count": nil])
        #expect(result.value == Outer())
        #expect(result.unknownFields.isEmpty)
    }

    @Test func errorsAreWordedAsTheCodableDecoderWordsThem() throws {
        let mismatch = try #require(decodeError(Outer.self, ["items": [["name": "a"], ["name": "b", "size": "big"]]]))
        #expect(mismatch.causes == [VirtError.Cause(
            reason: "FieldValueInvalid",
            message: #"Invalid value: "string": items[1].size in body must be of type integer: "string""#,
            field: "items[1].size")])

        let missing = try #require(decodeError(Outer.self, ["child": ["size": 1]]))
        #expect(missing.causes == [VirtError.Cause(reason: "FieldValueRequired", message: "Required value", field: "child.name")])

        let null = try #require(decodeError(Outer.self, ["child": ["name": nil]]))
        #expect(null.causes == [VirtError.Cause(reason: "FieldValueRequired", message: "Required value", field: "child.name")])

        let range = try #require(decodeError(Outer.self, ["count": -1]))
        #expect(range.causes.first?.field == "count")
        #expect(range.causes.first?.message == "Invalid value: -1: count in body should be greater than or equal to 0")

        let fraction = try #require(decodeError(Outer.self, ["count": 1.5]))
        #expect(fraction.causes.first?.message.contains("count in body must be of type integer") == true)

        let shape = try #require(decodeError(Outer.self, ["items": ["name": "a"]]))
        #expect(shape.causes.first?.message == #"Invalid value: "object": items in body must be of type array: "object""#)

        let root = try #require(decodeError(Outer.self, "text"))
        #expect(root.causes.first?.message.contains("body must be of type object") == true)
    }

    @Test func integersAndFloatsConvertLikeTheCodableDecoder() throws {
        let whole = try decodeTracking(Outer.self, from: ["count": 4.0, "ratio": 2])
        #expect(whole.value.count == 4)
        #expect(whole.value.ratio == 2.0)
        let memory = try decodeTracking(Memory.self, from: ["guest": 1024, "maxGuest": 2.5])
        #expect(memory.value.guest?.text == "1024")
        #expect(memory.value.maxGuest == Quantity.parse("2.5"))
        #expect(decodeError(Memory.self, ["guest": "lots"])?.causes.first?.field == "guest")
        #expect(decodeError(Memory.self, ["guest": true])?.causes.first?.message.contains("guest in body must be of type string") == true)
    }

    @Test func aReadingTypeInsideACodableOneKeepsPathsAndUnknownFields() throws {
        let json: JSONValue = ["meta": ["name": "x", "bogus": 1], "list": [["name": "a", "typo": 2]]]
        let result = try decodeTracking(Holder.self, from: json)
        #expect(result.value.meta?.name == "x")
        #expect(result.unknownFields == ["list[0].typo", "meta.bogus"])
        let error = try #require(decodeError(Holder.self, ["list": [["name": "a"], ["name": 7]]]))
        #expect(error.causes.first?.field == "list[1].name")
        #expect(error.causes.first?.message == #"Invalid value: "number": list[1].name in body must be of type string: "number""#)
    }

    @Test func decodableThroughOtherDecoders() throws {
        let text = #"{"enabled": true, "items": [{"name": "a", "size": 2}], "unmodelled": 1}"#
        let fromFoundation = try JSONDecoder().decode(Outer.self, from: Data(text.utf8))
        #expect(fromFoundation.items?.first?.size == 2)
        #expect(try JSONValueDecoder().decode(Outer.self, from: JSONValue.parse(text)) == fromFoundation)
        let encoded = try JSONEncoder().encode(fromFoundation)
        #expect(try JSONDecoder().decode(Outer.self, from: encoded) == fromFoundation)
    }

    // MARK: - Every field of the VM kinds

    static func everyField() throws -> JSONValue {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/every-field.json")
        return try JSONValue.parse(Array(try Data(contentsOf: url)))
    }

    /// The kinds whose typed decode is a reader (`JSONObjectDecodable`), from the registry.
    static let readingKinds: [String] = Registry.standard.types.compactMap { type in
        type.admission?.decodedType is any JSONObjectDecodable.Type ? type.kind : nil
    }

    /// The reader of each such kind and its `Codable` type agree, at every level: the fixture sets every
    /// field the readers read (it is made from their `init(reading:)`, see `Fixtures/make-every-field.py`).
    /// Read, nothing in it is unknown (the reader takes every key it has); every coding key the `Encodable`
    /// conformance names is set, also the optional ones (a property the reader does not fill stays nil);
    /// encoded again, it is the same document (each key lands in the property that encodes under its name).
    /// A field added to a struct and not to its reader, or read under another name, or dropped from a
    /// reader, fails here with its path.
    @Test(arguments: JSONObjectReaderTests.readingKinds)
    func everyFieldIsReadIntoItsProperty(kind: String) throws {
        let json = try #require(try Self.everyField()[kind], "every-field.json lacks \(kind): run Fixtures/make-every-field.py")
        let decodedType = Registry.standard.types.first { $0.kind == kind }?.admission?.decodedType
        let type = try #require(decodedType.flatMap { $0 as? any (JSONObjectDecodable & Encodable).Type })
        func check<T: JSONObjectDecodable & Encodable>(_ type: T.Type) throws {
            let result = try decodeTracking(T.self, from: json)
            #expect(result.unknownFields == [], "read by nobody")
            let recorded = try CodingKeyRecorder.record(result.value)
            #expect(recorded.absentKeys == [], "Codable keys the reader left unset")
            #expect(try JSONValue.parse(Array(JSONEncoder().encode(result.value))) == json)
        }
        try check(type)
    }

    /// The fixture holds exactly the kinds that read themselves, so a new reading kind is checked above.
    @Test func theFixtureCoversEveryReadingKind() throws {
        let fixture = try #require(try Self.everyField().objectValue)
        #expect(Set(fixture.keys) == Set(Self.readingKinds))
        #expect(Self.readingKinds.contains("VirtualMachine"))
    }

    /// The recorder sees what a plain encoder leaves out: nil optionals, by their coding key.
    @Test func theRecorderNamesUnsetKeys() throws {
        let recorded = try CodingKeyRecorder.record(Outer())
        #expect(recorded.absentKeys == ["enabled", "count", "ratio", "items", "child", "marker"])
        let outer = try decodeTracking(Outer.self, from: [
            "items": [["name": "a", "tags": ["k": "v"]]], "child": ["name": "b", "size": 1, "extra": ["x": 1]],
        ]).value
        let nested = try CodingKeyRecorder.record(outer)
        #expect(nested.absentKeys == ["enabled", "count", "ratio", "items[0].size", "items[0].extra", "child.tags", "marker"])
        #expect(nested.keys.contains("items[0].tags.k"))
    }
}
