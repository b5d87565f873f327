import Foundation
import Testing
import VirtAPI
import VirtClient
@testable import VirtCommands

@Suite struct TablePrinterTests {
    static let table: JSONValue = [
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": ["resourceVersion": "42"],
        "columnDefinitions": [
            ["name": "Name", "type": "string", "format": "name", "priority": 0],
            ["name": "Age", "type": "date", "format": "", "priority": 0],
            ["name": "Status", "type": "string", "format": "", "priority": 0],
            ["name": "Node", "type": "string", "format": "", "priority": 1],
        ],
        "rows": [
            ["cells": ["testvm", "5m", "Running", "node-a"], "object": ["metadata": ["name": "testvm", "namespace": "default"]]],
            ["cells": ["a-much-longer-name", "12d", "Stopped", nil], "object": ["metadata": ["name": "a-much-longer-name", "namespace": "prod"]]],
        ],
    ]

    @Test func parsesServerTables() throws {
        let table = try #require(ResourceTable(table: Self.table))
        #expect(table.columns.map(\.name) == ["Name", "Age", "Status", "Node"])
        #expect(table.columns[3].priority == 1)
        #expect(table.rows.count == 2)
        #expect(table.rows[1].namespace == "prod")
        #expect(table.resourceVersion == "42")
        #expect(ResourceTable(table: ["kind": "VirtualMachineList"]) == nil)
    }

    @Test func defaultOutputHidesPriorityColumnsAndAligns() throws {
        let table = try #require(ResourceTable(table: Self.table))
        let text = TablePrinter().render(table)
        #expect(text == """
            NAME                 AGE   STATUS
            testvm               5m    Running
            a-much-longer-name   12d   Stopped

            """)
    }

    @Test func wideShowsEveryColumnAndNullsAsNone() throws {
        let table = try #require(ResourceTable(table: Self.table))
        let text = TablePrinter(wide: true).render(table)
        #expect(text == """
            NAME                 AGE   STATUS    NODE
            testvm               5m    Running   node-a
            a-much-longer-name   12d   Stopped   <none>

            """)
    }

    @Test func allNamespacesPutsNamespaceFirst() throws {
        let table = try #require(ResourceTable(table: Self.table))
        let text = TablePrinter(withNamespace: true, noHeaders: false).render(table)
        #expect(text == """
            NAMESPACE   NAME                 AGE   STATUS
            default     testvm               5m    Running
            prod        a-much-longer-name   12d   Stopped

            """)
    }

    @Test func noHeadersAndNamePrefix() throws {
        let table = try #require(ResourceTable(table: Self.table))
        let text = TablePrinter(noHeaders: true, namePrefix: "virtualmachine.kubevirt.io/").render(table)
        #expect(text.hasPrefix("virtualmachine.kubevirt.io/testvm   "))
        #expect(!text.contains("NAME"))
    }

    @Test func columnsAreAtLeastSixWide() {
        #expect(TablePrinter.align([["A", "B", "C"], ["x", "y", "z"]]).text == "A     B     C\nx     y     z\n")
    }

    @Test func laterRowsKeepEarlierWidths() {
        let first = TablePrinter.align([["NAME", "AGE", "STATUS"], ["vm1", "1s", "Running"]])
        let next = TablePrinter.align([["v", "2s", "Stopped"]], minimumWidths: first.widths)
        #expect(next.text == "v      2s    Stopped\n")
        #expect(next.widths == first.widths)
    }

    @Test func plainObjectsFallBackToNameAndAge() throws {
        let now = try #require(HumanDuration.parseRFC3339("2024-01-01T01:00:00Z"))
        let list: JSONValue = [
            "kind": "VirtualMachineList",
            "metadata": ["resourceVersion": "9"],
            "items": [["metadata": ["name": "vm1", "creationTimestamp": "2024-01-01T00:30:00Z"]]],
        ]
        let table = ResourceTable(response: list)
        #expect(table.resourceVersion == "9")
        let text = TablePrinter(now: Date(timeIntervalSince1970: now)).render(table)
        #expect(text == "NAME   AGE\nvm1    30m\n")
    }

    @Test func dateCellsWithTimestampsBecomeAges() throws {
        let now = Date(timeIntervalSince1970: try #require(HumanDuration.parseRFC3339("2024-01-01T00:00:10Z")))
        let printer = TablePrinter(now: now)
        let column = ResourceTable.Column(name: "Age", type: "date")
        #expect(printer.cellText("2024-01-01T00:00:00Z", column: column) == "10s")
        #expect(printer.cellText("5m", column: column) == "5m")
        #expect(printer.cellText(.bool(true), column: ResourceTable.Column(name: "Ready")) == "true")
        #expect(printer.cellText(.int(3), column: ResourceTable.Column(name: "Restarts")) == "3")
    }
}
