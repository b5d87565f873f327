import Foundation
import Testing
import VirtAPI
import VirtError
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// The router in memory (no sockets): REST semantics end to end over a real SQLite store.
@Suite struct APIRouterTests {
    let router: APIRouter
    let directory: TemporaryDirectory

    init() async throws {
        directory = try TemporaryDirectory(prefix: "swiftvirt-router")
        router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: ["secret"])
        try await Bootstrap.ensureNamespaces(router.handler)
    }

    func send(_ method: String, _ path: String, _ body: JSONValue? = nil, query: [String: String] = [:],
              contentType: String = "application/json", accept: String = "application/json", token: String? = "secret") async throws -> (Int, JSONValue) {
        let request = APIRequest(method: method, path: path, query: query, accept: accept, contentType: contentType,
                                 body: body?.serializedBytes() ?? [])
        let response = await router.respond(request, authorization: token.map { "Bearer \($0)" })
        guard case .bytes(let bytes) = response.body else { return (response.status, .null) }
        return (response.status, try JSONValue.parse(bytes))
    }

    static let vms = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"

    static func vm(_ name: String, runStrategy: String = "Halted") -> JSONValue {
        [
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": ["name": .string(name)],
            "spec": [
                "runStrategy": .string(runStrategy),
                "template": ["spec": [
                    "domain": ["devices": ["disks": [["name": "root", "disk": ["bus": "virtio"]]]], "memory": ["guest": "128Mi"]],
                    "volumes": [["name": "root", "containerDisk": ["image": "/images/disk.qcow2"]]],
                ]],
            ],
        ]
    }

    @Test func createGetAndGeneration() async throws {
        let (status, created) = try await send("POST", Self.vms, Self.vm("a"))
        #expect(status == 201)
        #expect(created[path: ["metadata", "uid"]]?.stringValue?.isEmpty == false)
        #expect(created[path: ["metadata", "generation"]] == .int(1))
        var changed = created
        changed[path: ["spec", "runStrategy"]] = "Always"
        let (_, updated) = try await send("PUT", Self.vms + "/a", changed)
        #expect(updated[path: ["metadata", "generation"]] == .int(2))
        // A status write moves neither the spec nor the generation.
        var withStatus = updated
        withStatus[path: ["status", "printableStatus"]] = "Running"
        withStatus[path: ["spec", "runStrategy"]] = "Manual"
        let (_, afterStatus) = try await send("PUT", Self.vms + "/a/status", withStatus)
        #expect(afterStatus[path: ["status", "printableStatus"]] == "Running")
        #expect(afterStatus[path: ["spec", "runStrategy"]] == "Always")
        #expect(afterStatus[path: ["metadata", "generation"]] == .int(2))
        // A spec write ignores status.
        var specWrite = afterStatus
        specWrite[path: ["status", "printableStatus"]] = "Stopped"
        specWrite[path: ["metadata", "labels"]] = ["x": "y"]
        let (_, afterSpec) = try await send("PUT", Self.vms + "/a", specWrite)
        #expect(afterSpec[path: ["status", "printableStatus"]] == "Running")
    }

    @Test func unauthenticatedIsRefused() async throws {
        let (status, body) = try await send("GET", Self.vms, token: nil)
        #expect(status == 401)
        #expect(body["reason"] == "Unauthorized")
        let (versionStatus, _) = try await send("GET", "/version", token: nil)
        #expect(versionStatus == 200)
    }

    @Test func onlyTheExactBearerTokenIsAccepted() throws {
        let authenticator = Authenticator(tokens: ["s3cret-token", "other"])
        for accepted in ["Bearer s3cret-token", "Bearer  s3cret-token\t", "Bearer other"] {
            #expect(throws: Never.self, "\(accepted)") { try authenticator.authenticate(accepted) }
        }
        for refused in [nil, "", "Bearer", "Bearer ", "Bearer s3cret-toke", "Bearer s3cret-tokem", "Bearer s3cret-token2",
                        "bearer s3cret-token", "Basic s3cret-token", "Bearer s3cret token"] {
            #expect(throws: VirtError.self, "\(String(describing: refused))") { try authenticator.authenticate(refused) }
        }
        #expect(throws: Never.self) { try Authenticator(tokens: nil).authenticate(nil) }
    }

    @Test func notFoundNamesTheObject() async throws {
        let (status, body) = try await send("GET", Self.vms + "/nope")
        #expect(status == 404)
        #expect(body["message"] == "virtualmachines.kubevirt.io \"nope\" not found")
        #expect(body[path: ["details", "kind"]] == "virtualmachines")
    }

    @Test func validationFailureNamesTheField() async throws {
        let (status, body) = try await send("POST", Self.vms, Self.vm("bad", runStrategy: "Sometimes"))
        #expect(status == 422)
        let fields = body[path: ["details", "causes"]]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
        #expect(fields.contains("spec.runStrategy"))
        let (getStatus, _) = try await send("GET", Self.vms + "/bad")
        #expect(getStatus == 404)
    }

    @Test func tableHasKubeVirtColumns() async throws {
        _ = try await send("POST", Self.vms, Self.vm("t"))
        let (_, table) = try await send("GET", Self.vms, accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        #expect(table["kind"] == "Table")
        let names = table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["Name", "Age", "Status", "Ready"])
        #expect(table["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.first == "t")
    }

    @Test func mergeAndJSONPatch() async throws {
        _ = try await send("POST", Self.vms, Self.vm("p"))
        let (status, merged) = try await send("PATCH", Self.vms + "/p", ["metadata": ["labels": ["a": "b"]]], contentType: "application/merge-patch+json")
        #expect(status == 200)
        #expect(merged[path: ["metadata", "labels", "a"]] == "b")
        let ops: JSONValue = [["op": "replace", "path": "/spec/runStrategy", "value": "Always"]]
        let (_, patched) = try await send("PATCH", Self.vms + "/p", ops, contentType: "application/json-patch+json")
        #expect(patched[path: ["spec", "runStrategy"]] == "Always")
        let (strategic, _) = try await send("PATCH", Self.vms + "/p", ["spec": [:]], contentType: "application/strategic-merge-patch+json")
        #expect(strategic == 415)
    }

    @Test func applyPatchCreatesWhenMissing() async throws {
        let (status, created) = try await send("PATCH", Self.vms + "/ssa", Self.vm("ssa"), query: ["fieldManager": "kubectl"],
                                               contentType: "application/apply-patch+yaml")
        #expect(status == 201)
        #expect(created[path: ["metadata", "name"]] == "ssa")
    }

    @Test func discoveryAggregatedAndLegacy() async throws {
        let (_, aggregated) = try await send("GET", "/apis", accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
        #expect(aggregated["kind"] == "APIGroupDiscoveryList")
        let groups = aggregated["items"]?.arrayValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue } ?? []
        #expect(groups.contains("kubevirt.io"))
        let (_, list) = try await send("GET", "/apis/kubevirt.io/v1")
        let vm = list["resources"]?.arrayValue?.first { $0["name"] == "virtualmachines" }
        #expect(vm?["shortNames"] == ["vm", "vms"])
    }

    @Test func namespaceDeletionIsMarkedTerminating() async throws {
        _ = try await send("POST", "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "gone"]])
        let (status, body) = try await send("DELETE", "/api/v1/namespaces/gone")
        #expect(status == 200)
        #expect(body[path: ["status", "phase"]] == "Terminating")
        let (createStatus, _) = try await send("POST", "/apis/kubevirt.io/v1/namespaces/gone/virtualmachines", Self.vm("late"))
        #expect(createStatus == 403)
    }
}

@Suite struct VirtSubresourceTests {
    @Test func startStopRestartFollowRunStrategy() async throws {
        let directory = try TemporaryDirectory(prefix: "swiftvirt-sub")
        defer { withExtendedLifetime(directory) {} }
        let router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: nil)
        try await Bootstrap.ensureNamespaces(router.handler)
        func send(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> (Int, JSONValue) {
            let response = await router.respond(APIRequest(method: method, path: path, body: body?.serializedBytes() ?? []), authorization: nil)
            guard case .bytes(let bytes) = response.body, !bytes.isEmpty else { return (response.status, .null) }
            return (response.status, try JSONValue.parse(bytes))
        }
        let sub = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/s"
        _ = try await send("POST", APIRouterTests.vms, APIRouterTests.vm("s", runStrategy: "Halted"))
        #expect(try await send("PUT", sub + "/stop").0 == 409)
        #expect(try await send("PUT", sub + "/start").0 == 202)
        #expect(try await send("GET", APIRouterTests.vms + "/s").1[path: ["spec", "runStrategy"]] == "Always")
        #expect(try await send("PUT", sub + "/stop").0 == 202)
        #expect(try await send("GET", APIRouterTests.vms + "/s").1[path: ["spec", "runStrategy"]] == "Halted")
        #expect(try await send("PUT", sub + "/restart").0 == 409)
        // Manual: requests go to status.stateChangeRequests.
        _ = try await send("PUT", APIRouterTests.vms + "/s", {
            var vm = APIRouterTests.vm("s", runStrategy: "Manual")
            vm[path: ["metadata", "resourceVersion"]] = nil
            return vm
        }())
        #expect(try await send("PUT", sub + "/start").0 == 202)
        let requests = try await send("GET", APIRouterTests.vms + "/s").1[path: ["status", "stateChangeRequests"]]
        #expect(requests == [["action": "Start"]])
        #expect(try await send("GET", "/apis/subresources.kubevirt.io/v1").0 == 200)
    }
}
