import Testing
import VirtError

@testable import VirtAPI

/// certificates.k8s.io/v1 CertificateSigningRequest: Kubernetes' validation and kubectl's columns.
@Suite struct CertificateAdmissionTests {
    /// An EC P-256 request for `CN=system:node:node01` (openssl req -new), PEM, base64-encoded.
    static let request =
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIWE1IOENBUUF3SFRFYk1Ca0dBMVVFQXd3U2MzbHpkR1Z0T201dlpHVTZibTlrWlRBeE1Ga3dFd1lIS29aSQp6ajBD"
        + "QVFZSUtvWkl6ajBEQVFjRFFnQUVsenFEREtqNlJoNjl6bzRRNDlwR0ZuOEZ6amxpRkpxQW4wK0JSRXFlCnNlRmlTcFJoSDBMYW9iUG0zaE5ERTRiMDAvRXExY25qYTlHdE5XTGtkaWlx"
        + "QnFBQU1Bb0dDQ3FHU000OUJBTUMKQTBnQU1FVUNJQUNQTnpVZ2g5T0xQYlZKTmZ1VVVUZ3V3c291cGRESmRPV092eG8vUU9UQ0FpRUFuNGZwM0Jzdgp3ellKY2R0eVhSUHpKMG9F"
        + "R1duaHB1QVQwWjA2N1dlSy9KOD0KLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg=="

    static func csr(_ spec: JSONValue? = nil) -> JSONValue {
        [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": ["name": "node01"],
            "spec": spec ?? ["request": .string(request), "signerName": "example.com/node-serving", "usages": ["digital signature", "server auth"]],
        ]
    }

    private func validate(_ object: JSONValue, old: JSONValue? = nil) -> [VirtError.Cause] {
        Admission.validate(group: "certificates.k8s.io", kind: "CertificateSigningRequest", object: object, old: old)
    }

    private func changed(_ change: (inout JSONValue) -> Void) -> JSONValue {
        var object = Self.csr()
        change(&object)
        return object
    }

    @Test func aProperRequestIsValidAndFullyModelled() {
        var object = Self.csr()
        object[path: ["spec", "expirationSeconds"]] = 86400
        object[path: ["spec", "username"]] = "system:node:node01"
        object[path: ["status", "conditions"]] = [["type": "Approved", "status": "True", "reason": "AutoApproved", "lastUpdateTime": "2024-05-01T10:00:00Z"]]
        #expect(validate(object) == [])
        #expect(Admission.unknownFields(group: "certificates.k8s.io", kind: "CertificateSigningRequest", object: object) == [])
        object[path: ["spec", "signername"]] = "typo"
        #expect(Admission.unknownFields(group: "certificates.k8s.io", kind: "CertificateSigningRequest", object: object) == ["spec.signername"])
    }

    @Test func requestAndSignerNameAreRequired() {
        let causes = validate(Self.csr(["usages": ["client auth"]]))
        #expect(causes.map(\.field) == ["spec.request", "spec.signerName"])
        #expect(causes.map(\.reason) == ["FieldValueRequired", "FieldValueRequired"])
        #expect(validate(Self.csr([:])).map(\.field) == ["spec.request", "spec.signerName", "spec.usages"])
    }

    @Test func theRequestMustBeABase64PEMCertificateRequest() {
        let notBase64 = validate(changed { $0[path: ["spec", "request"]] = "-----BEGIN CERTIFICATE REQUEST-----" })
        #expect(notBase64.map(\.field) == ["spec.request"])
        #expect(notBase64.first?.message.contains("base64") == true)
        // "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", base64-encoded: the wrong PEM type.
        let certificate = validate(changed {
            $0[path: ["spec", "request"]] = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
        })
        #expect(certificate == [VirtError.Cause(reason: "FieldValueInvalid", message: "PEM block type must be CERTIFICATE REQUEST", field: "spec.request")])
        // "hello", base64-encoded: no PEM at all.
        #expect(validate(changed { $0[path: ["spec", "request"]] = "aGVsbG8=" }).first?.message == "PEM block type must be CERTIFICATE REQUEST")
        // A request whose type is wrong: a type error, worded as Kubernetes words it.
        let number = validate(changed { $0[path: ["spec", "request"]] = 7 })
        #expect(number.first?.field == "spec.request")
        #expect(number.first?.message.contains("spec.request in body must be of type string") == true)
    }

    @Test func signerNamesAreDomainAndPath() {
        func messages(_ name: String) -> [String] {
            validate(changed { $0[path: ["spec", "signerName"]] = .string(name) }).map(\.message)
        }
        #expect(messages("kubernetes.io/kube-apiserver-client") == [])
        #expect(messages("nopath") == [#"Invalid value: "nopath": must be a fully qualified domain and path of the form 'example.com/signer-name'"#])
        #expect(messages("localhost/signer") == [#"Invalid value: "localhost": should be a domain with at least two segments separated by dots"#])
        #expect(messages("Example.com/signer").first?.hasPrefix(#"Invalid value: "Example.com": validating label "Example": a lowercase RFC 1123 label"#) == true)
        #expect(messages("kubernetes.io/legacy-unknown") == [#"Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version"#])
    }

    @Test func usagesDurationAndConditions() {
        let usages = validate(changed { $0[path: ["spec", "usages"]] = ["server auth", "server auth", "flying"] })
        #expect(usages.map(\.field) == ["spec.usages[1]", "spec.usages[2]"])
        #expect(usages.map(\.reason) == ["FieldValueDuplicate", "FieldValueNotSupported"])
        let short = validate(changed { $0[path: ["spec", "expirationSeconds"]] = 60 })
        #expect(short.map(\.message) == ["Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)"])
        let conditions = validate(changed {
            $0[path: ["status", "conditions"]] = [
                ["type": "Approved", "status": "True"], ["type": "Denied", "status": "False"],
                ["type": "Failed", "status": "True"], ["type": "Failed", "status": "True"], ["status": "True"],
            ]
        })
        #expect(conditions.map(\.field) == [
            "status.conditions[1].status", "status.conditions[1].type", "status.conditions[3].type", "status.conditions[4].type",
        ])
        #expect(conditions.map(\.reason) == ["FieldValueNotSupported", "FieldValueInvalid", "FieldValueDuplicate", "FieldValueRequired"])
        #expect(conditions[1].message == #"Invalid value: "Denied": Approved and Denied conditions are mutually exclusive"#)
    }

    @Test func theSpecCannotChange() {
        let old = Self.csr()
        #expect(validate(old, old: old) == [])
        let causes = validate(changed { $0[path: ["spec", "signerName"]] = "example.com/other" }, old: old)
        #expect(causes.map(\.field) == ["spec"])
    }

    @Test func columnsAreKubectls() throws {
        let type = ResourceType.certificateSigningRequest
        #expect(type.columns.map(\.name) == ["Age", "SignerName", "Requestor", "RequestedDuration", "Condition"])
        func cells(_ object: JSONValue) -> [JSONValue] { type.columns.dropFirst().map { $0.cell(object) } }
        #expect(cells(Self.csr()) == ["example.com/node-serving", .null, "<none>", "Pending"])
        var object = Self.csr()
        object[path: ["spec", "username"]] = "kubernetes-admin"
        object[path: ["spec", "expirationSeconds"]] = 86400
        object[path: ["status", "conditions"]] = [["type": "Approved", "status": "True"]]
        object[path: ["status", "certificate"]] = "Y2VydA=="
        #expect(cells(object) == ["example.com/node-serving", "kubernetes-admin", "24h", "Approved,Issued"])
        object[path: ["status", "conditions"]] = [["type": "Denied", "status": "True"], ["type": "Failed", "status": "True"]]
        object[path: ["status", "certificate"]] = nil
        object[path: ["spec", "expirationSeconds"]] = 600
        #expect(cells(object) == ["example.com/node-serving", "kubernetes-admin", "10m", "Denied,Failed"])
        #expect(type.subresourceWrites == ["status": ["status"], "approval": ["status", "conditions"]])
    }

    @Test func humanDurationsAreKubernetes() {
        let cases: [(Int64, String)] = [
            (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (200, "3m20s"), (600, "10m"),
            (10_799, "179m"), (10_800, "3h"), (12_600, "3h30m"), (28_800, "8h"), (172_800, "2d"), (183_600, "2d3h"),
            (691_200, "8d"), (63_072_000, "2y"), (65_664_000, "2y30d"), (252_288_000, "8y"),
        ]
        for (seconds, text) in cases {
            #expect(PrinterColumn.humanDuration(seconds: seconds) == text, "\(seconds)")
        }
    }
}
