import Foundation
import Testing
import VirtAPI
@testable import VirtAPIServer

/// What every write does to a body before it is stored, as Kubernetes does it: nulls dropped, a Secret's
/// `stringData` folded into `data`, its `type` defaulted; and the rules of Secrets and ConfigMaps.
@Suite struct WriteSemanticsTests {
    let api: InMemoryAPI

    init() async throws {
        api = try await InMemoryAPI(prefix: "swiftvirt-writes")
    }

    func send(_ method: String, _ path: String, _ body: JSONValue? = nil, contentType: String = "application/json") async throws -> (Int, JSONValue) {
        try await api.send(method, path, body, contentType: contentType)
    }

    static let vms = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
    static let secrets = "/api/v1/namespaces/default/secrets"
    static let configMaps = "/api/v1/namespaces/default/configmaps"

    /// A VM as a client that sends every field sends it: the one of `running` / `runStrategy` not used is
    /// `null`, and so are the metadata maps it has nothing for.
    static func vmWithNulls(_ name: String) -> JSONValue {
        [
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": ["name": .string(name), "labels": .null, "annotations": .null],
            "spec": [
                "running": .null, "runStrategy": "Halted",
                "template": [
                    "metadata": ["labels": .null],
                    "spec": [
                        "domain": [
                            "devices": ["disks": [["name": "root", "disk": ["bus": "virtio"], "bootOrder": .null]]],
                            "memory": ["guest": "128Mi"], "cpu": .null,
                        ],
                        "volumes": [["name": "root", "containerDisk": ["image": "/images/disk.qcow2"]]],
                    ],
                ],
            ],
        ]
    }

    @Test func nullsAreDroppedOnCreate() async throws {
        let (status, created) = try await send("POST", Self.vms, Self.vmWithNulls("nulls"))
        #expect(status == 201)
        #expect(!created.hasNullMembers)
        #expect(created[path: ["spec", "runStrategy"]] == "Halted")
        #expect(created[path: ["spec"]]?.objectValue?.keys.contains("running") == false)
        #expect(created[path: ["metadata"]]?.objectValue?.keys.contains("annotations") == false)
        #expect(created[path: ["spec", "template", "spec", "domain"]]?.objectValue?.keys.contains("cpu") == false)
    }

    @Test func aReplaceOrPatchCarryingTheSameNullsChangesNothing() async throws {
        let (_, created) = try await send("POST", Self.vms, Self.vmWithNulls("again"))
        let revision = created.metaResourceVersion
        // PUT of the same body with nulls: no write at all.
        var replace = Self.vmWithNulls("again")
        replace[path: ["metadata", "resourceVersion"]] = .string(revision ?? "")
        let (putStatus, put) = try await send("PUT", Self.vms + "/again", replace)
        #expect(putStatus == 200)
        #expect(put.metaResourceVersion == revision)
        #expect(put[path: ["metadata", "generation"]] == .int(1))
        // A merge patch and an apply of the manifest with its nulls: no write either.
        for contentType in ["application/merge-patch+json", "application/apply-patch+yaml"] {
            let (status, patched) = try await send("PATCH", Self.vms + "/again", Self.vmWithNulls("again"), contentType: contentType)
            #expect(status == 200)
            #expect(patched.metaResourceVersion == revision, "\(contentType)")
            #expect(patched[path: ["metadata", "generation"]] == .int(1))
        }
        // A merge patch's null still deletes.
        let (_, cleared) = try await send("PATCH", Self.vms + "/again", ["spec": ["runStrategy": .null, "running": false]],
                                          contentType: "application/merge-patch+json")
        #expect(cleared[path: ["spec", "runStrategy"]] == nil)
        #expect(cleared[path: ["spec", "running"]] == .bool(false))
        #expect(cleared[path: ["metadata", "generation"]] == .int(2))
    }

    @Test func aJSONPatchThatAddsANullStoresNoNull() async throws {
        _ = try await send("POST", Self.vms, Self.vmWithNulls("jsonpatch"))
        let (status, patched) = try await send("PATCH", Self.vms + "/jsonpatch",
                                               [["op": "add", "path": "/spec/template/spec/domain/cpu", "value": .null]],
                                               contentType: "application/json-patch+json")
        #expect(status == 200)
        #expect(!patched.hasNullMembers)
        #expect(patched[path: ["metadata", "generation"]] == .int(1))
    }

    // MARK: - Secrets

    @Test func stringDataIsFoldedIntoDataOnCreateAndUpdate() async throws {
        let (status, created) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "creds", "annotations": .null],
            "data": ["kept": "a2VwdA==", "user": "b2xk"], "stringData": ["user": "admin", "password": "s3cr3t"],
        ])
        #expect(status == 201)
        #expect(created["stringData"] == nil)
        #expect(created["type"] == "Opaque")
        #expect(created["data"] == ["kept": "a2VwdA==", "user": "YWRtaW4=", "password": "czNjcjN0"])
        // An update's stringData is folded the same way; the stored data stays base64.
        var next = created
        next["stringData"] = ["password": "changed"]
        let (_, updated) = try await send("PUT", Self.secrets + "/creds", next)
        #expect(updated["stringData"] == nil)
        #expect(updated[path: ["data", "password"]] == .string(Data("changed".utf8).base64EncodedString()))
        // So does a merge patch's.
        let (_, patched) = try await send("PATCH", Self.secrets + "/creds", ["stringData": ["token": "abc"]],
                                          contentType: "application/merge-patch+json")
        #expect(patched[path: ["data", "token"]] == "YWJj")
        #expect(patched["stringData"] == nil)
        // Re-sending the same stringData changes nothing.
        let (_, again) = try await send("PATCH", Self.secrets + "/creds", ["stringData": ["token": "abc"]],
                                        contentType: "application/merge-patch+json")
        #expect(again.metaResourceVersion == patched.metaResourceVersion)
    }

    @Test func secretTypesNeedTheirKeys() async throws {
        let (status, refused) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "basic"], "type": "kubernetes.io/basic-auth",
            "stringData": ["note": "no user"],
        ])
        #expect(status == 422)
        let fields = (refused[path: ["details", "causes"]]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
        #expect(fields == ["data[username]", "data[password]"])
        let (tlsStatus, tls) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "tls"], "type": "kubernetes.io/tls",
            "stringData": ["tls.crt": "x"],
        ])
        #expect(tlsStatus == 422)
        #expect(tls["message"]?.stringValue?.contains("data[tls.key]: Required value") == true)
        let (dockerStatus, docker) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "pull"], "type": "kubernetes.io/dockerconfigjson",
            "stringData": [".dockerconfigjson": "not json"],
        ])
        #expect(dockerStatus == 422)
        #expect(docker["message"]?.stringValue?.contains("data[.dockerconfigjson]") == true)
        let (okStatus, _) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "pull-ok"], "type": "kubernetes.io/dockerconfigjson",
            "stringData": [".dockerconfigjson": "{\"auths\":{}}"],
        ])
        #expect(okStatus == 201)
        let (keyStatus, badKey) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "key"], "stringData": ["a b": "x"],
        ])
        #expect(keyStatus == 422)
        #expect(badKey["message"]?.stringValue?.contains("data[a b]: Invalid value: \"a b\": a valid config key") == true)
    }

    @Test func aSecretsTypeCannotChange() async throws {
        let (_, created) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "typed"], "stringData": ["a": "b"],
        ])
        var next = created
        next["type"] = "example.com/custom"
        let (status, refused) = try await send("PUT", Self.secrets + "/typed", next)
        #expect(status == 422)
        #expect(refused["message"]?.stringValue?.contains("type: Invalid value: \"example.com/custom\": field is immutable") == true)
        // Leaving the type out keeps it (it is defaulted again, to the same Opaque).
        next["type"] = nil
        next["data"] = ["a": "Yw=="]
        let (okStatus, updated) = try await send("PUT", Self.secrets + "/typed", next)
        #expect(okStatus == 200)
        #expect(updated["type"] == "Opaque")
    }

    @Test func immutableSecretsAndConfigMapsKeepTheirContent() async throws {
        let (_, secret) = try await send("POST", Self.secrets, [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "frozen"], "stringData": ["a": "b"], "immutable": true,
        ])
        let (dataStatus, dataRefused) = try await send("PATCH", Self.secrets + "/frozen", ["stringData": ["a": "c"]],
                                                       contentType: "application/merge-patch+json")
        #expect(dataStatus == 422)
        #expect(dataRefused["message"]?.stringValue?.contains("data: Forbidden: field is immutable when `immutable` is set") == true)
        let (flagStatus, flagRefused) = try await send("PATCH", Self.secrets + "/frozen", ["immutable": false],
                                                       contentType: "application/merge-patch+json")
        #expect(flagStatus == 422)
        #expect(flagRefused["message"]?.stringValue?.contains("immutable: Forbidden") == true)
        // Metadata may still change.
        let (labelStatus, labelled) = try await send("PATCH", Self.secrets + "/frozen", ["metadata": ["labels": ["a": "b"]]],
                                                     contentType: "application/merge-patch+json")
        #expect(labelStatus == 200)
        #expect(labelled["data"] == secret["data"])

        let (_, _) = try await send("POST", Self.configMaps, [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "frozen"], "data": ["a": "b"], "immutable": true,
        ])
        let (cmStatus, _) = try await send("PATCH", Self.configMaps + "/frozen", ["binaryData": ["bin": "AAE="]],
                                           contentType: "application/merge-patch+json")
        #expect(cmStatus == 422)
    }

    @Test func configMapsHoldTextAndBinaryUnderDistinctKeys() async throws {
        let (status, created) = try await send("POST", Self.configMaps, [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "mixed", "labels": .null],
            "data": ["text": "hello"], "binaryData": ["blob": "AAECAw=="],
        ])
        #expect(status == 201)
        #expect(created["binaryData"] == ["blob": "AAECAw=="])
        let (dupStatus, duplicate) = try await send("POST", Self.configMaps, [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "dup"],
            "data": ["same": "x"], "binaryData": ["same": "AA=="],
        ])
        #expect(dupStatus == 422)
        #expect(duplicate["message"]?.stringValue?.contains("binaryData[same]: Invalid value: \"same\": duplicate of key present in data") == true)
        let (base64Status, _) = try await send("POST", Self.configMaps, [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "notbase64"], "binaryData": ["blob": "%%%"],
        ])
        #expect(base64Status == 422)
    }
}
