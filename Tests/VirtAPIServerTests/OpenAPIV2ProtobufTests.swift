import Testing
import VirtAPI
@testable import VirtAPIServer

/// The protobuf writer's wire format, and the gnostic `openapi.v2.Document` it writes, read back with the
/// server's own protobuf reader through messages named after OpenAPIv2.proto's field numbers.
@Suite struct OpenAPIV2ProtobufTests {
    // openapi.v2 messages, as far as the tests read them.
    static let namedAny = ProtobufMessage([1: ("name", .string), 2: ("value", .message(ProtobufMessage([2: ("yaml", .string)])))])
    static let query = ProtobufMessage([1: ("required", .bool), 2: ("in", .string), 4: ("name", .string), 6: ("type", .string)])
    static let path = ProtobufMessage([1: ("required", .bool), 2: ("in", .string), 4: ("name", .string), 5: ("type", .string)])
    static let parametersItem = ProtobufMessage([
        1: ("parameter", .message(ProtobufMessage([
            1: ("body", .message(ProtobufMessage([2: ("name", .string), 3: ("in", .string), 4: ("required", .bool)]))),
            2: ("nonBody", .message(ProtobufMessage([3: ("query", .message(query)), 4: ("path", .message(path))]))),
        ]))),
    ])
    static let operation = ProtobufMessage([
        5: ("operationId", .string), 7: ("consumes", .repeated(.string)), 8: ("parameters", .repeated(.message(parametersItem))),
        9: ("responses", .message(ProtobufMessage([1: ("codes", .repeated(.message(ProtobufMessage([
            1: ("name", .string), 2: ("value", .message(ProtobufMessage([1: ("response", .message(ProtobufMessage([1: ("description", .string)])))]))),
        ]))))]))),
        13: ("extensions", .repeated(.message(namedAny))),
    ])
    static let schema = ProtobufMessage([
        1: ("ref", .string), 4: ("description", .string), 19: ("required", .repeated(.string)),
        22: ("type", .message(ProtobufMessage([1: ("value", .repeated(.string))]))),
        31: ("extensions", .repeated(.message(namedAny))),
    ])
    static let document = ProtobufMessage([
        1: ("swagger", .string),
        2: ("info", .message(ProtobufMessage([1: ("title", .string), 2: ("version", .string)]))),
        8: ("paths", .message(ProtobufMessage([2: ("path", .repeated(.message(ProtobufMessage([
            1: ("name", .string),
            2: ("value", .message(ProtobufMessage([
                2: ("get", .message(operation)), 8: ("patch", .message(operation)),
                9: ("parameters", .repeated(.message(parametersItem))),
            ]))),
        ]))))]))),
        9: ("definitions", .message(ProtobufMessage([1: ("schemas", .repeated(.message(ProtobufMessage([
            1: ("name", .string), 2: ("value", .message(schema)),
        ]))))]))),
    ])

    static func decode(_ bytes: [UInt8], _ message: ProtobufMessage) throws -> JSONValue {
        var reader = ProtobufBody.Reader(data: bytes, index: 0, end: bytes.count)
        return try ProtobufBody.decodeMessage(&reader, schema: message)
    }

    @Test func varintsAndDefaults() {
        var writer = ProtobufWriter()
        writer.int64(1, 300)
        writer.string(2, "")  // default: not written
        writer.bool(3, false)  // default: not written
        writer.bool(4, true)
        writer.int64(5, -1)
        #expect(writer.bytes == [0x08, 0xAC, 0x02, 0x20, 0x01, 0x28] + Array(repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func doublesAreLittleEndianFixed64() {
        var writer = ProtobufWriter()
        writer.double(7, 1.5)
        #expect(writer.bytes == [0x39, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F])
    }

    @Test func nestedMessagesAreLengthDelimited() throws {
        var writer = ProtobufWriter()
        writer.message(2) { $0.string(1, "title") }
        writer.message(3) { _ in }  // an empty message is still present
        #expect(writer.bytes == [0x12, 0x07, 0x0A, 0x05] + Array("title".utf8) + [0x1A, 0x00])
    }

    @Test func documentCarriesPathsOperationsAndExtensions() throws {
        let swagger = OpenAPIDocument(registry: APIRouter.served(.standard)).swagger()
        let decoded = try Self.decode(OpenAPIV2Protobuf.document(swagger), Self.document)
        #expect(decoded["swagger"] == "2.0")
        #expect(decoded[path: ["info", "title"]] == "SwiftVirt")

        let paths = decoded[path: ["paths", "path"]]?.arrayValue ?? []
        #expect(paths.count == swagger["paths"]?.objectValue?.count)
        let item = try #require(paths.first { $0["name"] == "/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachines/{name}" }?["value"])
        let pathParameters = (item["parameters"]?.arrayValue ?? []).compactMap { $0[path: ["parameter", "nonBody", "path"]] }
        #expect(pathParameters.map { $0["name"] } == ["name", "namespace"])
        #expect(pathParameters.allSatisfy { $0["required"] == true && $0["in"] == "path" && $0["type"] == "string" })

        let patch = try #require(item["patch"])
        #expect(patch["operationId"] == "patchKubevirtIoV1NamespacedVirtualMachine")
        #expect(patch["consumes"] == ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"])
        let queries = (patch["parameters"]?.arrayValue ?? []).compactMap { $0[path: ["parameter", "nonBody", "query", "name"]]?.stringValue }
        #expect(queries.contains("fieldValidation"))
        let body = (patch["parameters"]?.arrayValue ?? []).compactMap { $0[path: ["parameter", "body"]] }
        #expect(body == [["name": "body", "in": "body", "required": true]])
        let codes = (patch[path: ["responses", "codes"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(codes == ["200", "201", "401"])
        // The extension kubectl's query-parameter verifier reads as YAML into a map of strings.
        let gvk = (patch["extensions"]?.arrayValue ?? []).first { $0["name"] == "x-kubernetes-group-version-kind" }
        let yaml = try #require(gvk?[path: ["value", "yaml"]]?.stringValue)
        #expect(try JSONValue.parseYAML(yaml) == ["group": "kubevirt.io", "version": "v1", "kind": "VirtualMachine"])
    }

    @Test func definitionsCarryTheirGroupVersionKinds() throws {
        let swagger = OpenAPIDocument(registry: APIRouter.served(.standard)).swagger()
        let decoded = try Self.decode(OpenAPIV2Protobuf.document(swagger), Self.document)
        let schemas = decoded[path: ["definitions", "schemas"]]?.arrayValue ?? []
        #expect(schemas.count == swagger["definitions"]?.objectValue?.count)
        let pod = try #require(schemas.first { $0["name"] == "io.k8s.api.core.v1.Pod" }?["value"])
        #expect(pod[path: ["type", "value"]] == ["object"])
        let gvk = (pod["extensions"]?.arrayValue ?? []).first { $0["name"] == "x-kubernetes-group-version-kind" }
        let yaml = try #require(gvk?[path: ["value", "yaml"]]?.stringValue)
        #expect(try JSONValue.parseYAML(yaml) == [["group": "", "version": "v1", "kind": "Pod"]])
        let list = try #require(schemas.first { $0["name"] == "io.kubevirt.v1.VirtualMachineList" }?["value"])
        #expect(list["required"] == ["items"])
    }
}
