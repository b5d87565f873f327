import Testing

@testable import VirtAPI

@Suite struct MergePatchTests {
    /// RFC 7386 appendix A: original, patch, result.
    static let rfcExamples: [(String, String, String)] = [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"a":1,"e":null}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ]

    @Test(arguments: rfcExamples)
    func rfc7386Examples(original: String, patch: String, result: String) throws {
        let merged = try JSONValue.parse(original).applyingMergePatch(try JSONValue.parse(patch))
        #expect(merged == (try JSONValue.parse(result)))
    }

    @Test func labelPatchAsKubectlSendsIt() throws {
        let vm = try JSONValue.parse(#"{"metadata":{"name":"vm1","labels":{"app":"web","old":"x"}},"spec":{"running":false}}"#)
        let patch = try JSONValue.parse(#"{"metadata":{"labels":{"tier":"fe","old":null}}}"#)
        let patched = vm.applyingMergePatch(patch)
        #expect(patched[path: ["metadata", "labels"]] == ["app": "web", "tier": "fe"])
        #expect(patched[path: ["metadata", "name"]] == "vm1")
        #expect(patched["spec"] == ["running": false])
    }

    @Test func deletingAMissingMemberIsANoOp() {
        let original: JSONValue = ["a": 1]
        #expect(original.applyingMergePatch(["b": nil]) == ["a": 1])
    }

    @Test func emptyPatchObjectChangesNothingButNonObjectsBecomeObjects() {
        #expect((["a": 1] as JSONValue).applyingMergePatch([:]) == ["a": 1])
        #expect(("text" as JSONValue).applyingMergePatch([:]) == [:])
    }

    @Test func numbersKeepTheirKind() {
        let patched = (["replicas": 1] as JSONValue).applyingMergePatch(["replicas": 2, "ratio": 0.5])
        #expect(patched == .object(["replicas": .int(2), "ratio": .double(0.5)]))
    }

    // MARK: - creatingMergePatch

    @Test func diffOfEqualObjectsIsEmpty() throws {
        let value = try JSONValue.parse(#"{"a":{"b":[1,2]},"c":"d"}"#)
        #expect(value.creatingMergePatch(to: value) == [:])
    }

    @Test func diffRemovesChangesAndAdds() throws {
        let old = try JSONValue.parse(#"{"a":1,"b":{"c":"x","d":"y"},"list":[1,2],"gone":true}"#)
        let new = try JSONValue.parse(#"{"a":1,"b":{"c":"z","d":"y","e":{}},"list":[1],"added":"v"}"#)
        let patch = old.creatingMergePatch(to: new)
        #expect(patch == (try JSONValue.parse(#"{"b":{"c":"z","e":{}},"list":[1],"added":"v","gone":null}"#)))
        #expect(old.applyingMergePatch(patch) == new)
    }

    @Test func diffReplacesWhenTypesDiffer() {
        #expect((["a": "x"] as JSONValue).creatingMergePatch(to: ["a": ["b": 1]]) == ["a": ["b": 1]])
        #expect((["a": ["b": 1]] as JSONValue).creatingMergePatch(to: ["a": "x"]) == ["a": "x"])
        #expect(([1, 2] as JSONValue).creatingMergePatch(to: ["a": 1]) == ["a": 1])
        #expect((["a": 1] as JSONValue).creatingMergePatch(to: [1]) == [1])
        #expect(("x" as JSONValue).creatingMergePatch(to: "x") == "x")
    }

    @Test(arguments: [
        (#"{"metadata":{"labels":{"a":"b"}}}"#, #"{"metadata":{}}"#),
        (#"{"spec":{"template":{"spec":{"domain":{"cpu":{"cores":2}}}}}}"#, #"{"spec":{"template":{"spec":{"domain":{"cpu":{"cores":4,"sockets":1}}}}}}"#),
        (#"{"a":[{"b":1}]}"#, #"{"a":[{"b":2}],"c":[]}"#),
        (#"{"a":1}"#, #"{}"#),
    ])
    func diffRoundTrips(from old: String, to new: String) throws {
        let source = try JSONValue.parse(old)
        let target = try JSONValue.parse(new)
        #expect(source.applyingMergePatch(source.creatingMergePatch(to: target)) == target)
        #expect(target.applyingMergePatch(target.creatingMergePatch(to: source)) == source)
    }
}
