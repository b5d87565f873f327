import Foundation
import Testing
import VirtClient
import VirtError

@Suite struct KubeconfigTests {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    static func yaml(ca: String = Data(caPEM.utf8).base64EncodedString(), user: String = "token: abc123") -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: local
          cluster:
            server: https://127.0.0.1:6443
            certificate-authority-data: \(ca)
        - name: other
          cluster:
            server: https://10.0.0.1:6443
            insecure-skip-tls-verify: true
        users:
        - name: admin
          user:
            \(user)
        contexts:
        - name: main
          context:
            cluster: local
            user: admin
            namespace: vms
        - name: second
          context:
            cluster: other
            user: admin
        current-context: main
        preferences: {}
        """
    }

    @Test func parsesTheCurrentContext() throws {
        let kubeconfig = try Kubeconfig(yaml: Self.yaml())
        #expect(kubeconfig.currentContext == "main")
        #expect(kubeconfig.clusters.map(\.name) == ["local", "other"])
        let configuration = try kubeconfig.configuration()
        #expect(configuration.server == "https://127.0.0.1:6443")
        #expect(configuration.certificateAuthorityPEM == Array(Self.caPEM.utf8))
        #expect(configuration.bearerToken == "abc123")
        #expect(configuration.namespace == "vms")
        #expect(configuration.insecureSkipTLSVerify == false)
    }

    @Test func anotherContextCanBeChosen() throws {
        let configuration = try Kubeconfig(yaml: Self.yaml()).configuration(context: "second")
        #expect(configuration.server == "https://10.0.0.1:6443")
        #expect(configuration.insecureSkipTLSVerify)
        #expect(configuration.certificateAuthorityPEM == nil)
        #expect(configuration.namespace == nil)
    }

    @Test func unknownContextIsAnError() throws {
        let error = #expect(throws: VirtError.self) { try Kubeconfig(yaml: Self.yaml()).configuration(context: "nope") }
        #expect(error?.message.contains("context \"nope\" not found") == true)
    }

    @Test func invalidBase64IsAnError() {
        let error = #expect(throws: VirtError.self) { try Kubeconfig(yaml: Self.yaml(ca: "not-base64!")) }
        #expect(error?.message.contains("certificate-authority-data is not valid base64") == true)
    }

    @Test func execCredentialsAreRejected() throws {
        let kubeconfig = try Kubeconfig(yaml: Self.yaml(user: "exec: {command: gke-gcloud-auth-plugin}"))
        let error = #expect(throws: VirtError.self) { try kubeconfig.configuration() }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("exec credential plugin") == true)
    }

    @Test func filesResolveAgainstTheKubeconfigDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.caPEM.write(toFile: directory + "/ca.crt", atomically: true, encoding: .utf8)
        try "file-token\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let text = """
            clusters:
            - name: c
              cluster: {server: "https://h:1", certificate-authority: ca.crt}
            users:
            - name: u
              user: {tokenFile: token}
            contexts:
            - name: x
              context: {cluster: c, user: u}
            current-context: x
            """
        try text.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        let configuration = try Kubeconfig.load(path: directory + "/config").configuration()
        #expect(configuration.bearerToken == "file-token")
        #expect(configuration.certificateAuthorityPEM == Array(Self.caPEM.utf8))
    }

    @Test func locatePrefersTheExplicitPath() throws {
        #expect(try Kubeconfig.locate(explicitPath: "/explicit", environment: ["KUBECONFIG": "/env"]) == "/explicit")
    }

    @Test func locateTakesTheFirstExistingKubeconfigEntry() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString)").path
        try "{}".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try Kubeconfig.locate(explicitPath: nil, environment: ["KUBECONFIG": "/does/not/exist:\(file)"]) == file)
    }

    @Test func locateExplainsWhatToDoWhenThereIsNone() {
        let error = #expect(throws: VirtError.self) {
            try Kubeconfig.locate(explicitPath: nil, environment: ["HOME": "/nonexistent-home"])
        }
        #expect(error?.message == "no kubeconfig: pass --kubeconfig or set KUBECONFIG (swiftvirtd writes DATA_DIR/kubeconfig)")
    }
}
