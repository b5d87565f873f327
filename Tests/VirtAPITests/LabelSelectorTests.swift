import Testing
import VirtError

@testable import VirtAPI

@Suite struct LabelSelectorTests {
    private let web: [String: String] = ["app": "web", "tier": "fe", "replicas": "3"]
    private let db: [String: String] = ["app": "db", "tier": "be"]
    private let bare: [String: String] = [:]

    // MARK: - Parsing and printing

    @Test(arguments: [
        ("", ""),
        ("   ", ""),
        ("a=b", "a=b"),
        ("a==b", "a=b"),
        ("a!=b", "a!=b"),
        ("a", "a"),
        ("!a", "!a"),
        ("! a", "!a"),
        ("a=", "a="),
        ("a in (y,x)", "a in (x,y)"),
        ("a in(x, x ,y)", "a in (x,y)"),
        ("a notin (x)", "a notin (x)"),
        ("a in ()", "a in ()"),
        ("a in (x,)", "a in (,x)"),
        ("a>5", "a>5"),
        ("a < 10", "a<10"),
        (" b = c , a ", "a,b=c"),
        ("app.kubernetes.io/name=vm,kubevirt.io/domain in (a),!x", "app.kubernetes.io/name=vm,kubevirt.io/domain in (a),!x"),
        ("z=1,a=2,z!=3", "a=2,z=1,z!=3"),
        ("x in (in,notin)", "x in (in,notin)"),
    ])
    func parsesAndPrints(text: String, printed: String) throws {
        let selector = try LabelSelector(parsing: text)
        #expect(selector.description == printed)
        #expect(try LabelSelector(parsing: selector.description) == selector)
    }

    @Test func emptySelectorMatchesEverything() throws {
        let selector = try LabelSelector(parsing: "")
        #expect(selector.isEmpty)
        #expect(selector.matches(web))
        #expect(selector.matches(bare))
        #expect(LabelSelector().matches(db))
    }

    @Test func requirementsAreStructured() throws {
        let selector = try LabelSelector(parsing: "tier in (fe,be),!canary,app=web")
        #expect(selector.requirements.count == 3)
        #expect(selector.requirements[0].key == "app")
        #expect(selector.requirements[0].operator == .equals)
        #expect(selector.requirements[0].values == ["web"])
        #expect(selector.requirements[1].key == "canary")
        #expect(selector.requirements[1].operator == .doesNotExist)
        #expect(selector.requirements[1].values.isEmpty)
        #expect(selector.requirements[2].operator == .in)
        #expect(selector.requirements[2].values == ["be", "fe"])
    }

    // MARK: - Matching

    @Test func matchesLikeKubernetes() throws {
        func matches(_ text: String, _ labels: [String: String]) throws -> Bool {
            try LabelSelector(parsing: text).matches(labels)
        }
        #expect(try matches("app=web", web))
        #expect(try !matches("app=web", db))
        #expect(try !matches("app=web", bare))
        #expect(try matches("app!=web", db))
        #expect(try matches("app!=web", bare))
        #expect(try !matches("app!=web", web))
        #expect(try matches("tier in (fe,be)", web))
        #expect(try matches("tier in (fe,be)", db))
        #expect(try !matches("tier in (fe,be)", bare))
        #expect(try matches("tier notin (fe)", db))
        #expect(try matches("tier notin (fe)", bare))
        #expect(try !matches("tier notin (fe)", web))
        #expect(try matches("app", web))
        #expect(try !matches("app", bare))
        #expect(try matches("!app", bare))
        #expect(try !matches("!app", web))
        #expect(try matches("app=web,tier=fe", web))
        #expect(try !matches("app=web,tier=be", web))
        #expect(try matches("missing=", ["missing": ""]))
        #expect(try !matches("missing=", bare))
        #expect(try matches("x in ()", ["x": ""]))
    }

    @Test func numericComparisons() throws {
        #expect(try LabelSelector(parsing: "replicas>2").matches(web))
        #expect(try !LabelSelector(parsing: "replicas>3").matches(web))
        #expect(try LabelSelector(parsing: "replicas<4").matches(web))
        #expect(try !LabelSelector(parsing: "replicas<3").matches(web))
        #expect(try !LabelSelector(parsing: "app>1").matches(web))
        #expect(try !LabelSelector(parsing: "replicas>1").matches(bare))
        // As in Kubernetes, the bound must also be a valid label value, so it cannot be negative.
        #expect(throws: VirtError.self) { try LabelSelector(parsing: "replicas>-1") }
    }

    // MARK: - Errors

    @Test(arguments: [
        "a b",
        "a=b c",
        "a=b,",
        ",a=b",
        "a=b,,c=d",
        "a in x",
        "a in (x",
        "a in (x y)",
        "a notin",
        "=b",
        "!",
        "!a=b",
        "a=(b)",
        "a=b=c",
        "in",
        "a,in",
        "a>b",
        "a>",
    ])
    func syntaxErrorsAreBadRequests(text: String) {
        let error = #expect(throws: VirtError.self) { try LabelSelector(parsing: text) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.hasPrefix("unable to parse requirement: ") == true)
    }

    @Test func syntaxErrorsSayWhatWasFound() {
        let error = #expect(throws: VirtError.self) { try LabelSelector(parsing: "a b") }
        #expect(error?.message.contains("found 'b', expected:") == true)
        #expect(error?.message.contains(#"(in "a b")"#) == true)
        let trailing = #expect(throws: VirtError.self) { try LabelSelector(parsing: "a=b,") }
        #expect(trailing?.message.contains("found end of string, expected: a label key after ','") == true)
    }

    @Test(arguments: [
        "-a=b",
        "a-=b",
        "a b/c",
        "Example.com/a=b",
        "/a=b",
        "a/=b",
        "a/b/c=d",
        "a=-b",
        "a=b_",
        "a=hello world",
        "a in (ok,bad!)",
        "é=b",
    ])
    func invalidKeysAndValuesAreRejected(text: String) {
        let error = #expect(throws: VirtError.self) { try LabelSelector(parsing: text) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.hasPrefix("unable to parse requirement: ") == true)
    }

    @Test func invalidKeyMessageExplainsTheRule() {
        let error = #expect(throws: VirtError.self) { try LabelSelector(parsing: "-app=web") }
        #expect(error?.message.hasPrefix(#"unable to parse requirement: invalid label key "-app": name part must consist of alphanumeric characters"#) == true)
        let value = #expect(throws: VirtError.self) { try LabelSelector(parsing: "app=web-") }
        #expect(value?.message.hasPrefix(#"unable to parse requirement: invalid label value "web-" for key "app": a valid label must be an empty string"#) == true)
    }

    @Test func longNamesAreRejected() throws {
        let sixtyThree = String(repeating: "a", count: 63)
        _ = try LabelSelector(parsing: "\(sixtyThree)=\(sixtyThree)")
        #expect(throws: VirtError.self) { try LabelSelector(parsing: "\(sixtyThree)a=b") }
        #expect(throws: VirtError.self) { try LabelSelector(parsing: "a=\(sixtyThree)a") }
    }

    // MARK: - Structured form

    @Test func structuredSelector() throws {
        let json = try JSONValue.parse(
            #"""
            {"matchLabels":{"app":"web"},
             "matchExpressions":[{"key":"tier","operator":"In","values":["fe","be"]},
                                 {"key":"canary","operator":"DoesNotExist"},
                                 {"key":"zone","operator":"NotIn","values":["a"]},
                                 {"key":"app","operator":"Exists","values":[]}]}
            """#)
        let selector = try LabelSelector(json: json)
        #expect(selector.description == "app=web,app,!canary,tier in (be,fe),zone notin (a)")
        #expect(selector.matches(web))
        #expect(!selector.matches(web.merging(["canary": "true"]) { $1 }))
        #expect(!selector.matches(web.merging(["zone": "a"]) { $1 }))
        #expect(!selector.matches(db))
        #expect(selector == (try LabelSelector(parsing: selector.description)))
    }

    @Test func emptyAndNullStructuredSelectorsMatchEverything() throws {
        #expect(try LabelSelector(json: [:]).isEmpty)
        #expect(try LabelSelector(json: nil).isEmpty)
        #expect(try LabelSelector(json: ["matchLabels": nil, "matchExpressions": []]).isEmpty)
    }

    @Test func structuredErrorsAreInvalidWithAField() throws {
        func error(_ text: String) throws -> VirtError? {
            let json = try JSONValue.parse(text)
            return #expect(throws: VirtError.self) { try LabelSelector(json: json) }
        }
        let unsupported = try error(#"{"matchExpressions":[{"key":"a","operator":"Equals","values":["x"]}]}"#)
        #expect(unsupported?.code == .invalid)
        #expect(unsupported?.causes.first?.field == "matchExpressions[0].operator")
        #expect(unsupported?.causes.first?.reason == "FieldValueNotSupported")
        #expect(unsupported?.message.contains(#"Unsupported value: "Equals""#) == true)

        let noValues = try error(#"{"matchExpressions":[{"key":"a","operator":"In","values":[]}]}"#)
        #expect(noValues?.causes.first?.field == "matchExpressions[0]")
        #expect(noValues?.message.contains("values set can't be empty") == true)

        let existsWithValues = try error(#"{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}"#)
        #expect(existsWithValues?.code == .invalid)

        let badLabel = try error(#"{"matchLabels":{"app":"bad value"}}"#)
        #expect(badLabel?.causes.first?.field == "matchLabels[app]")

        let notString = try error(#"{"matchLabels":{"app":1}}"#)
        #expect(notString?.causes.first?.field == "matchLabels[app]")

        let missingKey = try error(#"{"matchExpressions":[{"operator":"Exists"}]}"#)
        #expect(missingKey?.causes.first?.field == "matchExpressions[0].key")
        #expect(missingKey?.causes.first?.reason == "FieldValueRequired")

        #expect(try error(#"[]"#)?.code == .invalid)
        #expect(try error(#"{"matchExpressions":{}}"#)?.causes.first?.field == "matchExpressions")
    }

    @Test func matchLabelsInitializer() throws {
        let selector = try LabelSelector(matchLabels: ["b": "2", "a": "1"])
        #expect(selector.description == "a=1,b=2")
        #expect(selector.matches(["a": "1", "b": "2", "c": "3"]))
        #expect(!selector.matches(["a": "1"]))
        #expect(throws: VirtError.self) { try LabelSelector(matchLabels: ["a": "not valid"]) }
    }

    @Test func requirementInitializerChecksValueCounts() {
        #expect(throws: VirtError.self) { try LabelSelector.Requirement(key: "a", operator: .equals, values: []) }
        #expect(throws: VirtError.self) { try LabelSelector.Requirement(key: "a", operator: .in, values: []) }
        #expect(throws: VirtError.self) { try LabelSelector.Requirement(key: "a", operator: .exists, values: ["x"]) }
        #expect(throws: VirtError.self) { try LabelSelector.Requirement(key: "a", operator: .greaterThan, values: ["x"]) }
        #expect(throws: Never.self) { try LabelSelector.Requirement(key: "a", operator: .notIn, values: ["x", "y"]) }
    }
}
