import Foundation
import Testing
import VirtAPI
import VirtError
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// certificates.k8s.io/v1 CertificateSigningRequest served by the router: discovery, create and read back,
/// validation, kubectl's table and the approval subresource.
@Suite struct CertificateSigningRequestTests {
    let api: InMemoryAPI

    init() async throws {
        api = try await InMemoryAPI(prefix: "swiftvirt-csr", namespaces: false)
    }

    static let csrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    static let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

    /// An EC P-256 request for `CN=system:node:node01` (openssl req -new), PEM, base64-encoded.
    static let request =
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIWE1IOENBUUF3SFRFYk1Ca0dBMVVFQXd3U2MzbHpkR1Z0T201dlpHVTZibTlrWlRBeE1Ga3dFd1lIS29aSQp6ajBD"
        + "QVFZSUtvWkl6ajBEQVFjRFFnQUVsenFEREtqNlJoNjl6bzRRNDlwR0ZuOEZ6amxpRkpxQW4wK0JSRXFlCnNlRmlTcFJoSDBMYW9iUG0zaE5ERTRiMDAvRXExY25qYTlHdE5XTGtkaWlx"
        + "QnFBQU1Bb0dDQ3FHU000OUJBTUMKQTBnQU1FVUNJQUNQTnpVZ2g5T0xQYlZKTmZ1VVVUZ3V3c291cGRESmRPV092eG8vUU9UQ0FpRUFuNGZwM0Jzdgp3ellKY2R0eVhSUHpKMG9F"
        + "R1duaHB1QVQwWjA2N1dlSy9KOD0KLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg=="

    static func csr(_ name: String) -> JSONValue {
        [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": ["name": .string(name)],
            "spec": [
                "request": .string(request), "signerName": "example.com/node-serving", "usages": ["digital signature", "server auth"],
                "expirationSeconds": 3600, "username": "system:node:node01",
            ],
            "status": ["conditions": [["type": "Approved", "status": "True"]]],
        ]
    }

    func send(_ method: String, _ path: String, _ body: JSONValue? = nil, query: [String: String] = [:],
              accept: String = "application/json") async throws -> (Int, JSONValue) {
        try await api.send(method, path, body, query: query, accept: accept)
    }

    @Test func discoveryListsTheKind() async throws {
        let (status, list) = try await send("GET", "/apis/certificates.k8s.io/v1")
        #expect(status == 200)
        let names = list["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["certificatesigningrequests", "certificatesigningrequests/status", "certificatesigningrequests/approval"])
        let csr = list["resources"]?.arrayValue?.first
        #expect(csr?["shortNames"] == ["csr"])
        #expect(csr?["namespaced"] == false)
        #expect(csr?["kind"] == "CertificateSigningRequest")
    }

    @Test func createReadBackAndPrint() async throws {
        let (emptyStatus, empty) = try await send("GET", Self.csrs)
        #expect(emptyStatus == 200)
        #expect(empty["items"] == [])

        let (status, created) = try await send("POST", Self.csrs, Self.csr("node01"))
        #expect(status == 201)
        // A new request starts with no status: approval is not the requester's to give.
        #expect(created["status"] == nil)
        let (_, read) = try await send("GET", Self.csrs + "/node01")
        #expect(read["spec"] == Self.csr("node01")["spec"])
        #expect(read[path: ["metadata", "uid"]]?.stringValue?.isEmpty == false)

        let (_, mine) = try await send("GET", Self.csrs, query: ["fieldSelector": "spec.signerName=example.com/node-serving"])
        #expect(mine["items"]?.arrayValue?.count == 1)
        let (_, others) = try await send("GET", Self.csrs, query: ["fieldSelector": "spec.signerName=example.com/other"])
        #expect(others["items"] == [])

        let (_, table) = try await send("GET", Self.csrs, accept: Self.table)
        #expect(table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            == ["Name", "Age", "SignerName", "Requestor", "RequestedDuration", "Condition"])
        let cells = try #require(table["rows"]?.arrayValue?.first?["cells"]?.arrayValue)
        #expect(cells.count == 6)
        #expect(Array(cells[2...]) == ["example.com/node-serving", "system:node:node01", "60m", "Pending"])
    }

    @Test func invalidRequestsAreRefusedWithTheirFields() async throws {
        var bad = Self.csr("bad")
        bad["spec"] = ["usages": ["client auth"]]
        let (status, body) = try await send("POST", Self.csrs, bad)
        #expect(status == 422)
        #expect(body["reason"] == "Invalid")
        let fields = body[path: ["details", "causes"]]?.arrayValue?.compactMap { $0["field"]?.stringValue }
        #expect(fields == ["spec.request", "spec.signerName"])
        #expect(body["message"]?.stringValue?.hasPrefix(#"CertificateSigningRequest.certificates.k8s.io "bad" is invalid"#) == true)
    }

    @Test func approvalWritesOnlyTheConditions() async throws {
        _ = try await send("POST", Self.csrs, Self.csr("node01"))
        let (_, current) = try await send("GET", Self.csrs + "/node01")
        var approved = current
        approved[path: ["status", "conditions"]] = [["type": "Approved", "status": "True", "reason": "KubectlApprove"]]
        approved[path: ["status", "certificate"]] = "Y2VydA=="
        approved[path: ["spec", "signerName"]] = "example.com/other"
        let (status, after) = try await send("PUT", Self.csrs + "/node01/approval", approved)
        #expect(status == 200)
        #expect(after[path: ["status", "conditions"]]?.arrayValue?.first?["reason"] == "KubectlApprove")
        #expect(after[path: ["status", "certificate"]] == nil)
        #expect(after[path: ["spec", "signerName"]] == "example.com/node-serving")
        let (_, table) = try await send("GET", Self.csrs + "/node01", accept: Self.table)
        #expect(table["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.last == "Approved")

        // The object itself keeps its spec.
        var respec = after
        respec[path: ["spec", "signerName"]] = "example.com/other"
        let (specStatus, _) = try await send("PUT", Self.csrs + "/node01", respec)
        #expect(specStatus == 422)
    }
}
