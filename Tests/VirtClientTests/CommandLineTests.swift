import Foundation
import Testing
import VirtAPI
import VirtCommands
import VirtError

@Suite struct CommandLineTests {
    @Test func typeAndNames() throws {
        let parsed = try ResourceArguments(["vm", "a", "b"], verb: "get")
        #expect(parsed.selections == [.init(type: "vm", names: ["a", "b"])])
    }

    @Test func slashForm() throws {
        let parsed = try ResourceArguments(["vm/a", "vmi/b", "vm/c"], verb: "get")
        #expect(parsed.selections == [.init(type: "vm", names: ["a", "c"]), .init(type: "vmi", names: ["b"])])
    }

    @Test func commaSeparatedTypes() throws {
        let parsed = try ResourceArguments(["vm,vmi"], verb: "get")
        #expect(parsed.selections == [.init(type: "vm", names: []), .init(type: "vmi", names: [])])
        #expect(!parsed.hasNames)
    }

    @Test func missingTypeSaysWhatToType() {
        let error = #expect(throws: VirtError.self) { try ResourceArguments([], verb: "get") }
        #expect(error?.message.contains("swiftvirt get vms") == true)
        #expect(throws: VirtError.self) { try ResourceArguments(["vm", "x/y"], verb: "get") }
    }

    @Test func globalOptionsBeforeTheVerbMoveAfterIt() {
        #expect(SwiftVirtCommand.normalize(["-n", "ns", "get", "vms"]) == ["get", "vms", "-n", "ns"])
        #expect(SwiftVirtCommand.normalize(["--kubeconfig=/k", "get", "vms", "--", "x"]) == ["get", "vms", "--kubeconfig=/k", "--", "x"])
        #expect(SwiftVirtCommand.normalize(["get", "vms", "-n", "ns"]) == ["get", "vms", "-n", "ns"])
    }

    @Test func outputFormats() throws {
        #expect(try OutputFormat(nil) == .table)
        #expect(try OutputFormat("wide") == .wide)
        #expect(try OutputFormat("yaml") == .yaml)
        #expect(try OutputFormat("jsonpath={.metadata.name}") == .jsonpath("{.metadata.name}"))
        #expect(throws: VirtError.self) { try OutputFormat("xml") }
    }

    @Test func durations() throws {
        #expect(try GoDuration.seconds("30s") == 30)
        #expect(try GoDuration.seconds("1h30m") == 5400)
        #expect(try GoDuration.seconds("500ms") == 0.5)
        #expect(try GoDuration.seconds("45") == 45)
        #expect(throws: VirtError.self) { try GoDuration.seconds("soon") }
    }

    @Test func humanDurations() {
        #expect(HumanDuration.format(seconds: 5) == "5s")
        #expect(HumanDuration.format(seconds: 119) == "119s")
        #expect(HumanDuration.format(seconds: 200) == "3m20s")
        #expect(HumanDuration.format(seconds: 600) == "10m")
        #expect(HumanDuration.format(seconds: 4 * 3600 + 120) == "4h2m")
        #expect(HumanDuration.format(seconds: 30 * 3600) == "30h")
        #expect(HumanDuration.format(seconds: 3 * 86400 + 3600) == "3d1h")
        #expect(HumanDuration.format(seconds: 100 * 86400) == "100d")
        #expect(HumanDuration.format(seconds: -5) == "<invalid>")
    }

    @Test func rfc3339() {
        #expect(HumanDuration.parseRFC3339("1970-01-01T00:00:00Z") == 0)
        #expect(HumanDuration.parseRFC3339("2024-02-29T12:00:00Z") == 1_709_208_000)
        #expect(HumanDuration.parseRFC3339("2024-02-29T14:00:00+02:00") == 1_709_208_000)
        #expect(HumanDuration.parseRFC3339("2024-02-29T12:00:00.5Z") == 1_709_208_000.5)
        #expect(HumanDuration.parseRFC3339("5m") == nil)
    }
}

@Suite struct JSONPathTemplateTests {
    static let list: JSONValue = [
        "kind": "List",
        "items": [
            ["metadata": ["name": "a", "labels": ["app.kubernetes.io/name": "web"]], "status": ["conditions": [
                ["type": "Ready", "status": "True"], ["type": "Paused", "status": "False"],
            ]]],
            ["metadata": ["name": "b"], "status": ["conditions": [["type": "Ready", "status": "False"]]]],
        ],
    ]

    @Test func fieldsAndIndexes() throws {
        #expect(try JSONPathTemplate("{.items[0].metadata.name}").render(Self.list) == "a")
        #expect(try JSONPathTemplate("{.items[-1].metadata.name}").render(Self.list) == "b")
        #expect(try JSONPathTemplate("{.items[*].metadata.name}").render(Self.list) == "a b")
        #expect(try JSONPathTemplate("name={$.items[1].metadata.name}!").render(Self.list) == "name=b!")
    }

    @Test func quotedKeysAndFilters() throws {
        #expect(try JSONPathTemplate("{.items[0].metadata.labels['app.kubernetes.io/name']}").render(Self.list) == "web")
        #expect(try JSONPathTemplate(#"{.items[0].status.conditions[?(@.type=="Ready")].status}"#).render(Self.list) == "True")
    }

    @Test func rangeAndLiterals() throws {
        let template = #"{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#
        #expect(try JSONPathTemplate(template).render(Self.list) == "a\tTrue\nb\tFalse\n")
    }

    @Test func nonStringsPrintAsJSON() throws {
        #expect(try JSONPathTemplate("{.items[1].metadata}").render(Self.list) == #"{"name":"b"}"#)
    }

    @Test func malformedTemplatesAreErrors() {
        #expect(throws: VirtError.self) { try JSONPathTemplate("{.items[0]") }
        #expect(throws: VirtError.self) { try JSONPathTemplate("{range .items[*]}{.x}") }
    }
}

@Suite struct DescribePrinterTests {
    @Test func labels() {
        #expect(DescribePrinter.label(for: "resourceVersion") == "Resource Version")
        #expect(DescribePrinter.label(for: "apiVersion") == "API Version")
        #expect(DescribePrinter.label(for: "uid") == "UID")
        #expect(DescribePrinter.label(for: "ipAddress") == "IP Address")
        #expect(DescribePrinter.label(for: "runStrategy") == "Run Strategy")
    }

    @Test func objectWithoutEvents() {
        let object: JSONValue = [
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": ["name": "vm1", "namespace": "default", "labels": ["app": "web"], "uid": "u-1", "managedFields": [["manager": "x"]]],
            "spec": ["runStrategy": "Always"],
        ]
        #expect(DescribePrinter().render(object, events: []) == """
            Name:         vm1
            Namespace:    default
            Labels:       app=web
            Annotations:  <none>
            API Version:  kubevirt.io/v1
            Kind:         VirtualMachine
            Metadata:
              UID:  u-1
            Spec:
              Run Strategy:  Always
            Events:          <none>

            """)
    }

    @Test func eventsTable() throws {
        let now = Date(timeIntervalSince1970: try #require(HumanDuration.parseRFC3339("2024-01-01T00:10:00Z")))
        let events: [JSONValue] = [
            ["type": "Normal", "reason": "Started", "message": "started the VM", "source": ["component": "virt-controller"],
             "lastTimestamp": "2024-01-01T00:05:00Z", "firstTimestamp": "2024-01-01T00:05:00Z", "count": 1],
            ["type": "Warning", "reason": "Retry", "message": "again", "reportingController": "node-agent",
             "lastTimestamp": "2024-01-01T00:09:00Z", "firstTimestamp": "2024-01-01T00:00:00Z", "count": 3],
        ]
        #expect(DescribePrinter(now: now).renderEvents(events) == """
              Type     Reason   Age                From             Message
              ----     ------   ----               ----             -------
              Normal   Started  5m                 virt-controller  started the VM
              Warning  Retry    60s (x3 over 10m)  node-agent       again

            """)
    }
}
