import Testing
import VirtError

@testable import VirtAPI

@Suite struct StrictDecodeTests {
    private struct Inner: Codable, Equatable {
        var name: String
        var size: Int?
        var tags: [String: String]?
        var extra: JSONValue?
    }

    private struct Outer: Codable, Equatable {
        var enabled: Bool?
        var count: UInt32?
        var ratio: Double?
        var items: [Inner]?
        var child: Inner?
        var marker: EmptyObject?
    }

    private func decodeError<T: Decodable>(_ type: T.Type, _ json: JSONValue) -> VirtError? {
        do throws(VirtError) {
            _ = try decodeTracking(type, from: json)
            return nil
        } catch {
            return error
        }
    }

    @Test func reportsUnknownFieldsWithFullPathsSorted() throws {
        let json = try JSONValue.parse(#"""
            {"enabled": true, "zzz": 1, "items": [{"name": "a"}, {"name": "b", "bogus": 1, "other": {"x": 1}}],
             "child": {"name": "c", "typo": "t"}, "marker": {"inside": 1}}
            """#)
        let result = try decodeTracking(Outer.self, from: json)
        #expect(result.unknownFields == ["child.typo", "items[1].bogus", "items[1].other", "marker.inside", "zzz"])
        #expect(result.value.items?.count == 2)
        #expect(result.value.child?.name == "c")
    }

    @Test func opaqueSubtreesAndMapsAreNotReported() throws {
        let json = try JSONValue.parse(#"""
            {"child": {"name": "c", "tags": {"any.key/x": "v"}, "extra": {"free": {"form": [1, {"deep": true}]}}}}
            """#)
        let result = try decodeTracking(Outer.self, from: json)
        #expect(result.unknownFields.isEmpty)
        #expect(result.value.child?.extra?[path: ["free", "form"]] == [1, ["deep": true]])
        #expect(result.value.child?.tags == ["any.key/x": "v"])
    }

    @Test func nullMeansAbsent() throws {
        let result = try decodeTracking(Outer.self, from: ["enabled": nil, "child": nil, "count": nil])
        #expect(result.value == Outer())
        #expect(result.unknownFields.isEmpty)
    }

    @Test func typeMismatchIsWordedLikeKubernetes() throws {
        let error = try #require(decodeError(Outer.self, ["enabled": "yes"]))
        #expect(error.code == .invalid)
        #expect(error.causes == [VirtError.Cause(
            reason: "FieldValueInvalid",
            message: #"Invalid value: "string": enabled in body must be of type boolean: "string""#,
            field: "enabled")])
        #expect(error.message.hasPrefix("enabled: Invalid value"))
    }

    @Test func nestedTypeMismatchNamesTheFullPath() throws {
        let error = try #require(decodeError(Outer.self, ["items": [["name": "a"], ["name": "b", "size": "big"]]]))
        #expect(error.causes.first?.field == "items[1].size")
        #expect(error.causes.first?.message == #"Invalid value: "string": items[1].size in body must be of type integer: "string""#)
    }

    @Test func containersMustHaveTheRightShape() throws {
        let object = try #require(decodeError(Outer.self, ["child": "c"]))
        #expect(object.causes.first?.field == "child")
        #expect(object.causes.first?.message.contains("must be of type object") == true)
        let array = try #require(decodeError(Outer.self, ["items": ["name": "a"]]))
        #expect(array.causes.first?.field == "items")
        #expect(array.causes.first?.message.contains("must be of type array") == true)
        let root = try #require(decodeError(Outer.self, [1, 2]))
        #expect(root.causes.first?.field == "")
        #expect(root.causes.first?.message.contains("body must be of type object") == true)
    }

    @Test func missingRequiredFieldIsRequiredValue() throws {
        let error = try #require(decodeError(Outer.self, ["items": [["size": 1]]]))
        #expect(error.causes == [VirtError.Cause(reason: "FieldValueRequired", message: "Required value", field: "items[0].name")])
        let null = try #require(decodeError(Outer.self, ["child": ["name": nil]]))
        #expect(null.causes.first?.reason == "FieldValueRequired")
        #expect(null.causes.first?.field == "child.name")
    }

    @Test func stringsDecodeOnlyFromStrings() throws {
        let error = try #require(decodeError(Outer.self, ["child": ["name": 5]]))
        #expect(error.causes.first?.message.contains("must be of type string") == true)
    }

    @Test func numbersDecodeIntoAnyNumericTypeWithinRange() throws {
        let ok = try decodeTracking(Outer.self, from: ["count": .double(3.0), "ratio": 2])
        #expect(ok.value.count == 3)
        #expect(ok.value.ratio == 2.0)

        let negative = try #require(decodeError(Outer.self, ["count": -1]))
        #expect(negative.causes.first?.field == "count")
        #expect(negative.causes.first?.message == "Invalid value: -1: count in body should be greater than or equal to 0")

        let huge = try #require(decodeError(Outer.self, ["count": 4_294_967_296]))
        #expect(huge.causes.first?.message == "Invalid value: 4294967296: count in body should be less than or equal to 4294967295")

        let fraction = try #require(decodeError(Outer.self, ["count": .double(1.5)]))
        #expect(fraction.causes.first?.message.contains("must be of type integer") == true)
    }

    @Test func plainDecoderIgnoresUnknownFields() throws {
        let value = try JSONValueDecoder().decode(Inner.self, from: ["name": "x", "whatever": 1])
        #expect(value.name == "x")
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Inner.self, from: ["size": 1]) }
    }

    @Test func topLevelJSONValueIsOpaque() throws {
        let json: JSONValue = ["anything": ["goes": true]]
        let result = try decodeTracking(JSONValue.self, from: json)
        #expect(result.value == json)
        #expect(result.unknownFields.isEmpty)
    }

    @Test func arraysOfScalarsAndOptionals() throws {
        struct Lists: Codable { var names: [String]; var maybe: [Int?] }
        let result = try decodeTracking(Lists.self, from: ["names": ["a", "b"], "maybe": [1, nil, 3]])
        #expect(result.value.names == ["a", "b"])
        #expect(result.value.maybe == [1, nil, 3])
        let error = try #require(decodeError(Lists.self, ["names": ["a", 2], "maybe": []]))
        #expect(error.causes.first?.field == "names[1]")
    }

    @Test func fieldPathRendering() {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let path: [any CodingKey] = [Key("spec"), Key("volumes"), JSONIndexKey(index: 2), Key("name")]
        #expect(JSONValueDecoder.fieldPath(path) == "spec.volumes[2].name")
        #expect(JSONValueDecoder.fieldPath([]) == "")
    }
}
