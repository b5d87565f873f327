import Crypto
import VirtAPI

/// Every OpenAPI document the server serves, made once at start: the v3 index and each group/version's
/// document, whose URL carries the hash of its bytes as Kubernetes' do (kubectl caches documents on disk
/// by URL, so a server whose kinds changed is never answered from an old copy), and the v2 document as
/// JSON and as gnostic's protobuf.
struct OpenAPICatalog: Sendable {
    /// `/openapi/v3`.
    let index: [UInt8]
    /// Each v3 document by its path under `/openapi/v3/` (`apis/kubevirt.io/v1`).
    let documents: [String: [UInt8]]
    /// `/openapi/v2` as JSON.
    let swaggerJSON: [UInt8]
    /// `/openapi/v2` as an `openapi.v2.Document`.
    let swaggerProtobuf: [UInt8]

    init(registry: Registry) {
        let document = OpenAPIDocument(registry: registry)
        var documents: [String: [UInt8]] = [:]
        var hashes: [String: String] = [:]
        for (group, version) in registry.groupVersions {
            guard let value = document.document(group: group, version: version) else { continue }
            let path = OpenAPIDocument.path(group: group, version: version)
            let bytes = value.serializedBytes()
            documents[path] = bytes
            hashes[path] = SHA256.hash(data: bytes).prefix(16).map { byte in (byte < 0x10 ? "0" : "") + String(byte, radix: 16) }.joined()
        }
        self.documents = documents
        index = document.index(hashes: hashes).serializedBytes()
        let swagger = document.swagger()
        swaggerJSON = swagger.serializedBytes()
        swaggerProtobuf = OpenAPIV2Protobuf.document(swagger)
    }
}
