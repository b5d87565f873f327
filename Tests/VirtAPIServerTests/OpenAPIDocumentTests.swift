import Foundation
import Testing
import VirtAPI
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// The OpenAPI documents and the CustomResourceDefinitions, through the router in memory.
@Suite struct OpenAPIDocumentTests {
    let router: APIRouter
    let directory: TemporaryDirectory

    init() async throws {
        directory = try TemporaryDirectory(prefix: "swiftvirt-openapi")
        router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: ["secret"])
    }

    func send(_ method: String, _ path: String, _ body: JSONValue? = nil, accept: String = "application/json") async throws -> (APIResponse, JSONValue) {
        let request = APIRequest(method: method, path: path, accept: accept, body: body?.serializedBytes() ?? [])
        let response = await router.respond(request, authorization: "Bearer secret")
        guard case .bytes(let bytes) = response.body else { return (response, .null) }
        if response.contentType.hasPrefix("application/com.github") { return (response, .null) }
        return (response, try JSONValue.parse(bytes))
    }

    @Test func everyPathDeclaresItsPathParameters() throws {
        let document = OpenAPIDocument(registry: APIRouter.served(.standard))
        for (group, version) in APIRouter.served(.standard).groupVersions {
            let doc = try #require(document.document(group: group, version: version))
            for (path, item) in doc["paths"]?.objectValue ?? [:] {
                let inPath = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
                let declared = (item["parameters"]?.arrayValue ?? []).filter { $0["in"] == "path" }
                #expect(Set(declared.compactMap { $0["name"]?.stringValue }) == inPath, "\(path)")
                #expect(declared.allSatisfy { $0["required"] == true }, "\(path)")
            }
        }
    }

    @Test func operationsDeclareKubernetesQueryParameters() throws {
        let doc = try #require(OpenAPIDocument(registry: .standard).document(group: "kubevirt.io", version: "v1"))
        let collection = try #require(doc[path: ["paths", "/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachines"]])
        func names(_ op: JSONValue?) -> Set<String> { Set((op?["parameters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }) }
        #expect(names(collection["get"]).isSuperset(of: ["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch", "timeoutSeconds"]))
        #expect(names(collection["post"]) == ["dryRun", "fieldManager", "fieldValidation"])
        #expect(names(collection["delete"]).isSuperset(of: ["labelSelector", "gracePeriodSeconds", "propagationPolicy"]))
        let object = try #require(doc[path: ["paths", "/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachines/{name}"]])
        #expect(names(object["patch"]) == ["dryRun", "fieldManager", "fieldValidation", "force"])
        #expect(names(object["delete"]) == ["dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy"])
        #expect(object[path: ["patch", "x-kubernetes-group-version-kind"]] == ["group": "kubevirt.io", "version": "v1", "kind": "VirtualMachine"])
        #expect(object[path: ["get", "responses", "200", "description"]] == "OK")
        #expect(doc[path: ["paths", "/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachines/{name}/status", "patch"]] != nil)
        #expect(doc[path: ["paths", "/apis/kubevirt.io/v1/virtualmachines", "get", "operationId"]] == "listKubevirtIoV1VirtualMachineForAllNamespaces")
    }

    @Test func everyReferenceResolves() throws {
        let registry = APIRouter.served(.standard)
        var documents: [(String, JSONValue)] = [("#/definitions/", OpenAPIDocument(registry: registry).swagger())]
        for (group, version) in registry.groupVersions {
            documents.append(("#/components/schemas/", try #require(OpenAPIDocument(registry: registry).document(group: group, version: version))))
        }
        for (prefix, doc) in documents {
            let schemas = prefix.hasPrefix("#/definitions") ? doc["definitions"] : doc[path: ["components", "schemas"]]
            let names = Set(schemas?.objectValue?.keys ?? [:].keys)
            var references: [String] = []
            func collect(_ value: JSONValue) {
                switch value {
                case .object(let members):
                    if let reference = members["$ref"]?.stringValue { references.append(reference) }
                    members.values.forEach(collect)
                case .array(let elements): elements.forEach(collect)
                default: break
                }
            }
            collect(doc)
            #expect(!references.isEmpty)
            for reference in references {
                #expect(reference.hasPrefix(prefix) && names.contains(String(reference.dropFirst(prefix.count))), "\(reference)")
            }
        }
    }

    @Test func v2IsServedAsJSONAndAsProtobuf() async throws {
        let (json, document) = try await send("GET", "/openapi/v2")
        #expect(json.status == 200)
        #expect(document["swagger"] == "2.0")
        let (protobuf, _) = try await send("GET", "/openapi/v2", accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
        #expect(protobuf.status == 200)
        #expect(protobuf.contentType == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
        guard case .bytes(let bytes) = protobuf.body else { Issue.record("no body"); return }
        #expect(bytes == OpenAPIV2Protobuf.document(OpenAPIDocument(registry: APIRouter.served(.standard)).swagger()))
    }

    @Test func indexNamesEachDocumentByTheHashOfItsBytes() async throws {
        let (_, index) = try await send("GET", "/openapi/v3")
        let urls = (index["paths"]?.objectValue ?? [:]).compactMapValues { $0["serverRelativeURL"]?.stringValue }
        #expect(urls.count == APIRouter.served(.standard).groupVersions.count)
        #expect(Set(urls.values.map { $0.split(separator: "=").last }).count == urls.count)
        let url = try #require(urls["apis/kubevirt.io/v1"])
        #expect(url.hasPrefix("/openapi/v3/apis/kubevirt.io/v1?hash="))
        let (response, document) = try await send("GET", "/openapi/v3/apis/kubevirt.io/v1")
        #expect(response.status == 200)
        #expect(document["openapi"] == "3.0.0")
        let (missing, _) = try await send("GET", "/openapi/v3/apis/instancetype.kubevirt.io/v1beta1")
        #expect(missing.status == 404)
    }

    @Test func definitionsListTheCustomKindsOnly() async throws {
        let (response, list) = try await send("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
        #expect(response.status == 200)
        #expect(list["kind"] == "CustomResourceDefinitionList")
        let names = (list["items"]?.arrayValue ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        #expect(names == [
            "datasources.cdi.kubevirt.io", "datavolumes.cdi.kubevirt.io", "migrationpolicies.migrations.kubevirt.io",
            "network-attachment-definitions.k8s.cni.cncf.io", "nodenetworkconfigurationenactments.nmstate.io",
            "nodenetworkconfigurationpolicies.nmstate.io", "nodenetworkstates.nmstate.io", "storageprofiles.cdi.kubevirt.io", "virtualmachineinstancemigrations.kubevirt.io", "virtualmachineinstances.kubevirt.io", "virtualmachines.kubevirt.io",
        ])
        let (_, vm) = try await send("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.kubevirt.io")
        #expect(vm[path: ["spec", "names", "listKind"]] == "VirtualMachineList")
        #expect(vm[path: ["spec", "scope"]] == "Namespaced")
        #expect(vm[path: ["metadata", "uid"]] == .string(ResourceType.customResourceDefinitionUID(name: "virtualmachines.kubevirt.io")))
        let (missing, status) = try await send("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/pods")
        #expect(missing.status == 404)
        #expect(status["message"] == "customresourcedefinitions.apiextensions.k8s.io \"pods\" not found")
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE"])
    func definitionsAreReadOnly(method: String) async throws {
        let path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions" + (method == "POST" ? "" : "/virtualmachines.kubevirt.io")
        let (response, status) = try await send(method, path, ["kind": "CustomResourceDefinition"])
        #expect(response.status == 405)
        #expect(status["reason"] == "MethodNotAllowed")
        #expect(status["message"]?.stringValue?.contains("built into SwiftVirt and read-only") == true)
    }

    @Test func discoveryListsTheDefinitions() async throws {
        let (_, aggregated) = try await send("GET", "/apis", accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        let group = (aggregated["items"]?.arrayValue ?? []).first { $0[path: ["metadata", "name"]] == "apiextensions.k8s.io" }
        let resource = group?[path: ["versions"]]?.arrayValue?.first?["resources"]?.arrayValue?.first
        #expect(resource?["resource"] == "customresourcedefinitions")
        #expect(resource?["verbs"] == ["get", "list"])
        #expect(resource?["scope"] == "Cluster")
    }
}
