import Testing
import VirtError

@testable import VirtAPI

@Suite struct JSONPatchTests {
    private func apply(_ document: String, _ patch: String) throws -> JSONValue {
        try JSONValue.parse(document).applyingJSONPatch(try JSONValue.parse(patch))
    }

    /// Applies a patch that must fail and returns the error.
    private func failure(_ document: String, _ patch: String) throws -> VirtError? {
        let value = try JSONValue.parse(document)
        let operations = try JSONValue.parse(patch)
        return #expect(throws: VirtError.self) { try value.applyingJSONPatch(operations) }
    }

    // MARK: - RFC 6902 appendix A

    /// Appendix A cases that succeed: document, patch, expected result.
    static let rfcExamples: [(String, String, String)] = [
        // A.1 Adding an object member
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"baz":"qux","foo":"bar"}"#),
        // A.2 Adding an array element
        (#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        // A.3 Removing an object member
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        // A.4 Removing an array element
        (#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        // A.5 Replacing a value
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#, #"{"baz":"boo","foo":"bar"}"#),
        // A.6 Moving a value
        (
            #"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#,
            #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
            #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#
        ),
        // A.7 Moving an array element
        (
            #"{"foo":["all","grass","cows","eat"]}"#,
            #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#,
            #"{"foo":["all","cows","eat","grass"]}"#
        ),
        // A.8 Testing a value: success
        (
            #"{"baz":"qux","foo":["a",2,"c"]}"#,
            #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
            #"{"baz":"qux","foo":["a",2,"c"]}"#
        ),
        // A.10 Adding a nested member object
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, #"{"foo":"bar","child":{"grandchild":{}}}"#),
        // A.11 Ignoring unrecognized elements
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux","xyz":123}]"#, #"{"foo":"bar","baz":"qux"}"#),
        // A.14 ~ escape ordering
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10}]"#, #"{"/":9,"~1":10}"#),
        // A.16 Adding an array value
        (#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, #"{"foo":["bar",["abc","def"]]}"#),
    ]

    @Test(arguments: rfcExamples)
    func rfc6902Examples(document: String, patch: String, result: String) throws {
        #expect(try apply(document, patch) == (try JSONValue.parse(result)))
    }

    @Test func rfcA9TestingAValueFails() throws {
        let error = try failure(#"{"baz":"qux","foo":["a",2,"c"]}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#)
        #expect(error?.code == .invalid)
        #expect(error?.message == #"json patch operation 0 (test /baz): test failed: the value is "qux", expected "bar""#)
    }

    @Test func rfcA12AddingToANonexistentTargetFails() throws {
        let error = try failure(#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#)
        #expect(error?.code == .invalid)
        #expect(error?.message == "json patch operation 0 (add /baz/bat): path not found")
    }

    @Test func rfcA13DuplicateOpMemberIsRejectedByTheParser() {
        #expect(throws: VirtError.self) {
            try JSONValue.parse(#"[{"op":"add","path":"/baz","value":"qux","op":"remove"}]"#)
        }
    }

    @Test func rfcA15ComparingStringsAndNumbersFails() throws {
        let error = try failure(#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":"10"}]"#)
        #expect(error?.code == .invalid)
        #expect(error?.message.hasPrefix("json patch operation 0 (test /~01): test failed") == true)
    }

    // MARK: - Semantics

    @Test func operationsApplyInOrder() throws {
        let result = try apply(
            #"{"spec":{"running":false}}"#,
            #"""
            [{"op":"test","path":"/spec/running","value":false},
             {"op":"replace","path":"/spec/running","value":true},
             {"op":"add","path":"/metadata","value":{"labels":{}}},
             {"op":"add","path":"/metadata/labels/kubevirt.io~1os","value":"linux"},
             {"op":"copy","from":"/metadata/labels","path":"/spec/labels"},
             {"op":"remove","path":"/metadata/labels/kubevirt.io~1os"}]
            """#)
        #expect(result == (try JSONValue.parse(#"{"spec":{"running":true,"labels":{"kubevirt.io/os":"linux"}},"metadata":{"labels":{}}}"#)))
    }

    @Test func addReplacesAnExistingMember() throws {
        #expect(try apply(#"{"a":1}"#, #"[{"op":"add","path":"/a","value":2}]"#) == ["a": 2])
    }

    @Test func wholeDocumentOperations() throws {
        #expect(try apply(#"{"a":1}"#, #"[{"op":"add","path":"","value":[1]}]"#) == [1])
        #expect(try apply(#"{"a":1}"#, #"[{"op":"replace","path":"","value":{"b":2}}]"#) == ["b": 2])
        #expect(try apply(#"{"a":1}"#, #"[{"op":"test","path":"","value":{"a":1.0}}]"#) == ["a": 1])
        let error = try failure(#"{"a":1}"#, #"[{"op":"remove","path":""}]"#)
        #expect(error?.code == .invalid)
    }

    @Test func nullIsAValue() throws {
        #expect(try apply(#"{"a":1}"#, #"[{"op":"replace","path":"/a","value":null}]"#) == ["a": nil])
        #expect(try apply(#"{"a":null}"#, #"[{"op":"test","path":"/a","value":null}]"#) == ["a": nil])
    }

    @Test func emptyKeyAndEmptyPatch() throws {
        #expect(try apply(#"{"":1}"#, #"[{"op":"replace","path":"/","value":2}]"#) == ["": 2])
        #expect(try apply(#"{"a":1}"#, #"[]"#) == ["a": 1])
    }

    @Test func arrayEdges() throws {
        #expect(try apply(#"[1,2]"#, #"[{"op":"add","path":"/2","value":3}]"#) == [1, 2, 3])
        #expect(try apply(#"[1,2]"#, #"[{"op":"add","path":"/0","value":0}]"#) == [0, 1, 2])
        #expect(try apply(#"[]"#, #"[{"op":"add","path":"/-","value":1}]"#) == [1])
        #expect(try apply(#"[[1]]"#, #"[{"op":"add","path":"/0/-","value":2}]"#) == [[1, 2]])
        #expect(try apply(#"[1,2,3]"#, #"[{"op":"move","from":"/0","path":"/-"}]"#) == [2, 3, 1])
    }

    @Test func testComparesNumbersByValueAndObjectsWithoutOrder() throws {
        _ = try apply(#"{"a":1,"b":{"x":[1,2],"y":"z"}}"#, #"[{"op":"test","path":"/a","value":1.0},{"op":"test","path":"/b","value":{"y":"z","x":[1.0,2]}}]"#)
        #expect(throws: VirtError.self) { try apply(#"{"a":[1,2]}"#, #"[{"op":"test","path":"/a","value":[2,1]}]"#) }
        #expect(throws: VirtError.self) { try apply(#"{"a":{"x":1}}"#, #"[{"op":"test","path":"/a","value":{"x":1,"y":2}}]"#) }
        #expect(throws: VirtError.self) { try apply(#"{"a":1}"#, #"[{"op":"test","path":"/a","value":1.5}]"#) }
        #expect(throws: VirtError.self) { try apply(#"{"a":true}"#, #"[{"op":"test","path":"/a","value":1}]"#) }
    }

    @Test func moveToItselfKeepsTheDocument() throws {
        #expect(try apply(#"{"a":{"b":1}}"#, #"[{"op":"move","from":"/a","path":"/a"}]"#) == ["a": ["b": 1]])
    }

    @Test func moveToAParentLocationReplacesIt() throws {
        #expect(try apply(#"{"a":{"b":{"c":1}}}"#, #"[{"op":"move","from":"/a/b","path":"/a"}]"#) == ["a": ["c": 1]])
    }

    @Test func copyDoesNotAlias() throws {
        let result = try apply(
            #"{"a":{"b":1}}"#,
            #"[{"op":"copy","from":"/a","path":"/c"},{"op":"replace","path":"/c/b","value":2}]"#)
        #expect(result == ["a": ["b": 1], "c": ["b": 2]])
    }

    @Test func aFailedPatchLeavesTheOriginalUntouched() throws {
        let original = try JSONValue.parse(#"{"a":1}"#)
        let patch = try JSONValue.parse(#"[{"op":"replace","path":"/a","value":2},{"op":"remove","path":"/missing"}]"#)
        #expect(throws: VirtError.self) { try original.applyingJSONPatch(patch) }
        #expect(original == ["a": 1])
    }

    // MARK: - Errors that name the operation

    @Test func replacingAMissingMemberNamesTheOperation() throws {
        let error = try failure(
            #"{"spec":{}}"#,
            #"[{"op":"test","path":"/spec","value":{}},{"op":"add","path":"/spec/bar","value":1},{"op":"replace","path":"/spec/foo","value":1}]"#)
        #expect(error?.code == .invalid)
        #expect(error?.message == "json patch operation 2 (replace /spec/foo): path not found")
    }

    @Test func removeAndMoveOfMissingPaths() throws {
        #expect(try failure(#"{"a":1}"#, #"[{"op":"remove","path":"/b"}]"#)?.message == "json patch operation 0 (remove /b): path not found")
        #expect(
            try failure(#"{"a":1}"#, #"[{"op":"move","from":"/b","path":"/c"}]"#)?.message
                == "json patch operation 0 (move /c from /b): from path not found")
        #expect(
            try failure(#"{"a":1}"#, #"[{"op":"copy","from":"/b/c","path":"/c"}]"#)?.message
                == "json patch operation 0 (copy /c from /b/c): from path not found")
    }

    @Test func traversingAScalarFails() throws {
        let error = try failure(#"{"a":"text"}"#, #"[{"op":"add","path":"/a/b","value":1}]"#)
        #expect(error?.code == .invalid)
        #expect(error?.message == "json patch operation 0 (add /a/b): path not found: /a is a string, not an object or array")
    }

    @Test func arrayIndexErrors() throws {
        let outOfBounds = try failure(#"{"a":[1]}"#, #"[{"op":"add","path":"/a/2","value":1}]"#)
        #expect(outOfBounds?.code == .invalid)
        #expect(outOfBounds?.message.contains("index 2 is out of bounds") == true)
        #expect(try failure(#"{"a":[1]}"#, #"[{"op":"replace","path":"/a/1","value":1}]"#)?.code == .invalid)
        #expect(try failure(#"{"a":[1]}"#, #"[{"op":"remove","path":"/a/-"}]"#)?.code == .invalid)
        #expect(try failure(#"{"a":[1,2]}"#, #"[{"op":"remove","path":"/a/01"}]"#)?.message.contains(#""01" is not a valid array index"#) == true)
        #expect(try failure(#"{"a":[1,2]}"#, #"[{"op":"remove","path":"/a/-1"}]"#)?.code == .invalid)
        #expect(try failure(#"{"a":[1,2]}"#, #"[{"op":"remove","path":"/a/x"}]"#)?.code == .invalid)
        #expect(try failure(#"{"a":[1,2]}"#, #"[{"op":"remove","path":"/a/99999999999999999999999"}]"#)?.code == .invalid)
    }

    @Test func cannotMoveIntoOwnChild() throws {
        let error = try failure(#"{"a":{"b":{}}}"#, #"[{"op":"move","from":"/a","path":"/a/b/c"}]"#)
        #expect(error?.code == .invalid)
        #expect(error?.message.contains("cannot move /a into its own child /a/b/c") == true)
    }

    // MARK: - Malformed patch documents

    @Test(arguments: [
        (#"{"op":"add","path":"/a","value":1}"#, "json patch document must be an array of operations, not an object"),
        (#"[1]"#, "json patch operation 0: must be an object, not a number"),
        (#"[{"path":"/a"}]"#, #"json patch operation 0: missing "op""#),
        (#"[{"op":1,"path":"/a"}]"#, #"json patch operation 0: "op" must be a string"#),
        (#"[{"op":"remove"}]"#, #"json patch operation 0: missing "path" for "remove""#),
        (#"[{"op":"add","path":"/a"}]"#, #"json patch operation 0: missing "value" for "add /a""#),
        (#"[{"op":"test","path":"/a"}]"#, #"json patch operation 0: missing "value" for "test /a""#),
        (#"[{"op":"move","path":"/a"}]"#, #"json patch operation 0: missing "from" for "move /a""#),
        (#"[{"op":"copy","path":"/a","from":5}]"#, #"json patch operation 0: "from" must be a string"#),
        (#"[{"op":"remove","path":"/a"},{"op":"merge","path":"/a"}]"#, #"json patch operation 1: unsupported op "merge"; expected one of add, remove, replace, move, copy, test"#),
    ])
    func malformedDocumentsAreBadRequests(patch: String, message: String) throws {
        let error = try failure(#"{"a":1}"#, patch)
        #expect(error?.code == .badRequest)
        #expect(error?.message == message)
    }

    @Test func malformedPointersAreBadRequests() throws {
        let noSlash = try failure(#"{"a":1}"#, #"[{"op":"remove","path":"a"}]"#)
        #expect(noSlash?.code == .badRequest)
        #expect(noSlash?.message.hasPrefix(#"json patch operation 0: invalid "path" "a""#) == true)
        #expect(try failure(#"{"a~":1}"#, #"[{"op":"remove","path":"/a~"}]"#)?.code == .badRequest)
        #expect(try failure(#"{"a~2":1}"#, #"[{"op":"remove","path":"/a~2"}]"#)?.code == .badRequest)
        #expect(try failure(#"{"a":1}"#, #"[{"op":"copy","from":"a","path":"/b"}]"#)?.code == .badRequest)
    }

    @Test func aMalformedLaterOperationWinsOverAnEarlierFailure() throws {
        let error = try failure(#"{"a":1}"#, #"[{"op":"remove","path":"/missing"},{"op":"add","path":"/b"}]"#)
        #expect(error?.code == .badRequest)
    }

    @Test func pointerEscapesInPathsAndMessages() throws {
        #expect(try apply(#"{"a/b":{"m~n":1}}"#, #"[{"op":"replace","path":"/a~1b/m~0n","value":2}]"#) == ["a/b": ["m~n": 2]])
        let error = try failure(#"{}"#, #"[{"op":"replace","path":"/a~1b/m~0n","value":2}]"#)
        #expect(error?.message == "json patch operation 0 (replace /a~1b/m~0n): path not found")
    }
}
