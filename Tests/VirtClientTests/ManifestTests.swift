import Foundation
import Testing
import VirtAPI
import VirtClient
import VirtCommands
import VirtError

@Suite struct ManifestTests {
    @Test func multiDocumentYAMLSkipsEmptyDocuments() throws {
        let text = """
            # a comment before the first document
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: vm1
            ---
            ---
            # only a comment
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: cm1}
            """
        let objects = try ManifestReader.objects(fromText: text)
        #expect(objects.map { $0[path: ["metadata", "name"]]?.stringValue } == ["vm1", "cm1"])
        #expect(objects[0]["kind"] == .string("VirtualMachine"))
    }

    @Test func listsAreFlattened() throws {
        let text = """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
            - apiVersion: kubevirt.io/v1
              kind: VirtualMachineList
              items:
              - {apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: b}}
            """
        let objects = try ManifestReader.objects(fromText: text)
        #expect(objects.map { $0[path: ["metadata", "name"]]?.stringValue } == ["a", "b"])
    }

    @Test func jsonIsAcceptedAsIs() throws {
        let objects = try ManifestReader.objects(fromText: #" {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"},"data":{"n":"1"}}"#)
        #expect(objects.count == 1)
        #expect(objects[0][path: ["data", "n"]] == .string("1"))
    }

    @Test func scalarDocumentsAreRejected() {
        #expect(throws: VirtError.self) { try ManifestReader.objects(fromText: "just a string") }
    }

    @Test func syntaxErrorsNameTheProblem() {
        let error = #expect(throws: VirtError.self) { try ManifestReader.objects(fromText: "a: [1, 2\nb: c") }
        #expect(error?.message.hasPrefix("error parsing YAML") == true)
    }

    @Test func directoriesYieldManifestFilesInOrder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("manifests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["b.yaml", "a.json", "notes.txt", "sub/c.yml"] {
            try "{}".write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        }
        #expect(try ManifestReader.files(at: directory, recursive: false) == ["\(directory)/a.json", "\(directory)/b.yaml"])
        #expect(try ManifestReader.files(at: directory, recursive: true).count == 3)
    }

    @Test func standardInputIsRead() throws {
        let manifests = try ManifestReader.read(["-"], recursive: false) {
            Array("apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n".utf8)
        }
        #expect(manifests.count == 1)
        #expect(manifests[0].source == "STDIN")
    }
}

@Suite struct KubeYAMLTests {
    @Test func scalarsFollowKubernetesYAML() throws {
        let value = try KubeYAML.document("""
            octal: 0644
            hex: 0x1F
            big: 1_000
            float: 1.5
            enabled: yes
            disabled: off
            nul: ~
            ts: 2024-01-01T00:00:00Z
            quoted: "123"
            sexagesimal: 1:20
            """)
        #expect(value["octal"] == .int(420))
        #expect(value["hex"] == .int(31))
        #expect(value["big"] == .int(1000))
        #expect(value["float"] == .double(1.5))
        #expect(value["enabled"] == .bool(true))
        #expect(value["disabled"] == .bool(false))
        #expect(value["nul"] == .null)
        #expect(value["ts"] == .string("2024-01-01T00:00:00Z"))
        #expect(value["quoted"] == .string("123"))
        #expect(value["sexagesimal"] == .string("1:20"))
    }

    @Test func anchorsAndMergeKeys() throws {
        let value = try KubeYAML.document("""
            base: &b {x: 1, y: 1}
            merged:
              <<: *b
              y: 2
            """)
        #expect(value["merged"] == .object(["x": .int(1), "y": .int(2)]))
    }

    @Test func duplicateKeysAreErrors() {
        #expect(throws: VirtError.self) { try KubeYAML.document("a: 1\na: 2\n") }
    }

    @Test func renderingLooksLikeKubectl() {
        let value: JSONValue = [
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": ["name": "vm1", "creationTimestamp": "2024-01-01T00:00:00Z", "resourceVersion": "12", "labels": [:]],
            "spec": [
                "runStrategy": "Always",
                "template": ["spec": ["volumes": [["name": "disk0", "containerDisk": ["image": "x:latest"]]]]],
                "empty": [],
                "flags": ["yes", "on", "plain", ""],
                "script": "#!/bin/sh\necho hi\n",
            ],
        ]
        #expect(KubeYAML.render(value) == """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              creationTimestamp: "2024-01-01T00:00:00Z"
              labels: {}
              name: vm1
              resourceVersion: "12"
            spec:
              empty: []
              flags:
              - "yes"
              - "on"
              - plain
              - ""
              runStrategy: Always
              script: |
                #!/bin/sh
                echo hi
              template:
                spec:
                  volumes:
                  - containerDisk:
                      image: x:latest
                    name: disk0

            """)
    }

    @Test func renderedYAMLReadsBackTheSame() throws {
        let value: JSONValue = [
            "strings": ["123", "1.5", "true", "null", "~", "- dash", "a: b", "#hash", "2024-01-01", " padded ", "multi\nline", "tab\there"],
            "numbers": [1, -2, 2.5],
            "nested": [[1, 2], ["k": nil]],
        ]
        #expect(try KubeYAML.document(KubeYAML.render(value)) == value)
    }
}
