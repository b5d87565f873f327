import Testing
import VirtError

@testable import VirtAPI

@Suite struct FieldSelectorTests {
    private let fields: Set<String> = ["metadata.name", "metadata.namespace", "status.phase", "spec.nodeName", "status.ready"]

    private let running: JSONValue = [
        "metadata": ["name": "vm1", "namespace": "default"],
        "spec": ["nodeName": "node-a"],
        "status": ["phase": "Running", "ready": true],
    ]
    private let pending: JSONValue = [
        "metadata": ["name": "vm2", "namespace": "prod"],
        "status": ["phase": "Pending"],
    ]

    @Test func parsesEqualityAndInequality() throws {
        let selector = try FieldSelector(parsing: "metadata.name=vm1,status.phase!=Pending", supportedFields: fields)
        #expect(selector.requirements == [
            FieldSelector.Requirement(field: "metadata.name", operator: .equals, value: "vm1"),
            FieldSelector.Requirement(field: "status.phase", operator: .notEquals, value: "Pending"),
        ])
        #expect(selector.matches(running))
        #expect(!selector.matches(pending))
        #expect(selector.description == "metadata.name=vm1,status.phase!=Pending")
    }

    @Test func doubleEqualsMeansEquals() throws {
        let selector = try FieldSelector(parsing: "metadata.namespace==prod", supportedFields: fields)
        #expect(selector.requirements.first?.operator == .equals)
        #expect(selector.matches(pending))
        #expect(!selector.matches(running))
    }

    @Test func emptySelectorMatchesEverything() throws {
        let selector = try FieldSelector(parsing: "", supportedFields: fields)
        #expect(selector.isEmpty)
        #expect(selector.matches(running))
        #expect(selector.matches([:]))
        #expect(try FieldSelector(parsing: ",,", supportedFields: fields).isEmpty)
    }

    @Test func missingFieldsCompareAsEmpty() throws {
        #expect(try FieldSelector(parsing: "spec.nodeName=", supportedFields: fields).matches(pending))
        #expect(!(try FieldSelector(parsing: "spec.nodeName=", supportedFields: fields).matches(running)))
        #expect(try FieldSelector(parsing: "spec.nodeName!=", supportedFields: fields).matches(running))
        #expect(try FieldSelector(parsing: "spec.nodeName!=node-a", supportedFields: fields).matches(pending))
        #expect(try FieldSelector(parsing: "status.phase!=Running", supportedFields: fields).matches("not an object"))
    }

    @Test func nonStringFieldsCompareInJSONForm() throws {
        #expect(try FieldSelector(parsing: "status.ready=true", supportedFields: fields).matches(running))
        #expect(try FieldSelector(parsing: "status.ready!=true", supportedFields: fields).matches(pending))
    }

    @Test func unsupportedFieldsAreRejectedLikeKubernetes() {
        let error = #expect(throws: VirtError.self) {
            try FieldSelector(parsing: "metadata.name=a,spec.running=true", supportedFields: fields)
        }
        #expect(error?.code == .badRequest)
        #expect(error?.message == "field label not supported: spec.running")
    }

    @Test func defaultFields() throws {
        let selector = try FieldSelector(parsing: "metadata.name=vm1,metadata.namespace=default", supportedFields: FieldSelector.defaultSupportedFields)
        #expect(selector.matches(running))
        #expect(throws: VirtError.self) { try FieldSelector(parsing: "status.phase=Running", supportedFields: FieldSelector.defaultSupportedFields) }
    }

    @Test func escapedValues() throws {
        let selector = try FieldSelector(parsing: #"metadata.name=a\,b\=c\\d,status.phase=Running"#, supportedFields: fields)
        #expect(selector.requirements.count == 2)
        #expect(selector.requirements[0].value == #"a,b=c\d"#)
        #expect(selector.description == #"metadata.name=a\,b\=c\\d,status.phase=Running"#)
        #expect(selector.matches(["metadata": ["name": #"a,b=c\d"#], "status": ["phase": "Running"]]))
        #expect(try FieldSelector(parsing: selector.description, supportedFields: fields) == selector)
    }

    @Test(arguments: [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("metadata.name=a,status.phase", "invalid selector: 'metadata.name=a,status.phase'; can't understand 'status.phase'"),
        (#"metadata.name=a\b"#, #"invalid field selector: invalid escape sequence: \b"#),
        (#"metadata.name=a\"#, #"invalid field selector: invalid escape sequence: \"#),
        ("metadata.name=a=b", "invalid field selector: unescaped character in value: ="),
        ("metadata.name==a=b", "invalid field selector: unescaped character in value: ="),
    ])
    func malformedSelectors(text: String, message: String) {
        let error = #expect(throws: VirtError.self) { try FieldSelector(parsing: text, supportedFields: fields) }
        #expect(error?.code == .badRequest)
        #expect(error?.message == message)
    }

    @Test func exactValueNarrowsAStoreQuery() throws {
        let selector = try FieldSelector(parsing: "metadata.namespace!=kube-system,metadata.name=vm1", supportedFields: fields)
        #expect(selector.exactValue(for: "metadata.name") == "vm1")
        #expect(selector.exactValue(for: "metadata.namespace") == nil)
        #expect(selector.exactValue(for: "status.phase") == nil)
    }

    @Test func kubectlEventSelector() throws {
        let eventFields: Set<String> = ["involvedObject.name", "involvedObject.namespace", "involvedObject.kind", "involvedObject.uid"]
        let selector = try FieldSelector(
            parsing: "involvedObject.name=x,involvedObject.namespace=default,involvedObject.kind=VirtualMachine,involvedObject.uid=1234",
            supportedFields: eventFields)
        let event: JSONValue = ["involvedObject": ["name": "x", "namespace": "default", "kind": "VirtualMachine", "uid": "1234"]]
        #expect(selector.matches(event))
        #expect(!selector.matches(["involvedObject": ["name": "x", "namespace": "default", "kind": "VirtualMachine", "uid": "5678"]]))
    }

    @Test func fieldNamesAreTrimmed() throws {
        let selector = try FieldSelector(parsing: " metadata.name =vm1", supportedFields: fields)
        #expect(selector.exactValue(for: "metadata.name") == "vm1")
    }
}
