import Foundation
import Testing

@testable import VirtRegistry

/// Pull secrets' Docker configs, matched to a registry as the kubelet matches them.
@Suite struct DockerConfigTests {
    static func auth(_ user: String, _ password: String) -> String { Data("\(user):\(password)".utf8).base64EncodedString() }

    @Test func credentialsByRegistryAndLongestPath() throws {
        let json = #"""
            {"auths":{"127.0.0.1:5000":{"auth":"\#(Self.auth("tester", "pa:ss"))"},
                      "127.0.0.1:5000/team":{"username":"team","password":"t"},
                      "https://index.docker.io/v1/":{"username":"hub","password":"h"},
                      "quay.io":{"username":"","password":""}}}
            """#
        let config = try DockerConfig.parse(Array(json.utf8), secret: "s")
        #expect(config.credentials(for: try .parse("127.0.0.1:5000/guest:v1")) == RegistryCredentials(username: "tester", password: "pa:ss"))
        #expect(config.credentials(for: try .parse("127.0.0.1:5000/team/disk")) == RegistryCredentials(username: "team", password: "t"))
        #expect(config.credentials(for: try .parse("127.0.0.1:5000/teamwork")) == RegistryCredentials(username: "tester", password: "pa:ss"))
        #expect(config.credentials(for: try .parse("ubuntu")) == RegistryCredentials(username: "hub", password: "h"))
        #expect(config.credentials(for: try .parse("quay.io/a/b")) == nil)
        #expect(config.credentials(for: try .parse("127.0.0.2:5000/guest")) == nil)
    }

    @Test func theOlderDockercfgForm() throws {
        let config = try DockerConfig.parse(Array(#"{"localhost:5000":{"auth":"\#(Self.auth("u", "p"))"}}"#.utf8), secret: "s")
        #expect(config.credentials(for: try .parse("localhost:5000/x")) == RegistryCredentials(username: "u", password: "p"))
    }

    @Test func aBrokenConfigSaysWhy() {
        #expect(throws: RegistryError.invalidCredentials(secret: "s", detail: "it is not JSON")) { try DockerConfig.parse(Array("{".utf8), secret: "s") }
        #expect(throws: RegistryError.invalidCredentials(secret: "s", detail: "auths[h].auth is not base64 of username:password")) {
            try DockerConfig.parse(Array(#"{"auths":{"h":{"auth":"!!!"}}}"#.utf8), secret: "s")
        }
        #expect(throws: RegistryError.invalidCredentials(secret: "s", detail: "auths is not an object")) {
            try DockerConfig.parse(Array(#"{"auths":[]}"#.utf8), secret: "s")
        }
    }
}
