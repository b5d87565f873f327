import Testing

@testable import VirtRegistry

/// `WWW-Authenticate` as registries send it.
@Suite struct AuthChallengeTests {
    @Test func aBearerChallengeWithQuotedParameters() {
        let challenges = AuthChallenge.parse(#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#)
        #expect(challenges == [AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/ubuntu:pull",
        ])])
    }

    @Test func basicAndUnquotedValuesAndSpacesAndCase() {
        #expect(AuthChallenge.parse(#"Basic realm="Registry Realm""#) == [AuthChallenge(scheme: "Basic", parameters: ["realm": "Registry Realm"])])
        #expect(AuthChallenge.parse("BEARER Realm = https://a.example/t , Service=reg") == [
            AuthChallenge(scheme: "bearer", parameters: ["realm": "https://a.example/t", "service": "reg"]),
        ])
        #expect(AuthChallenge.parse(#"Bearer realm="a \"quoted\" \\ realm""#).first?.realm == #"a "quoted" \ realm"#)
    }

    @Test func severalChallengesInOneHeader() {
        let challenges = AuthChallenge.parse(#"Basic realm="x", Bearer realm="https://t.example/token",service="s",error="insufficient_scope""#)
        #expect(challenges.map(\.scheme) == ["basic", "bearer"])
        #expect(challenges.last?.parameters["error"] == "insufficient_scope")
        #expect(challenges.last?.parameters["service"] == "s")
    }

    @Test func garbageGivesWhatCanBeReadAndNeverTraps() {
        #expect(AuthChallenge.parse("").isEmpty)
        #expect(AuthChallenge.parse(",,, ,").isEmpty)
        #expect(AuthChallenge.parse("Bearer").first == AuthChallenge(scheme: "bearer"))
        #expect(AuthChallenge.parse(#"Bearer realm="unterminated"#).first?.realm == "unterminated")
        _ = AuthChallenge.parse("=\"\"=,=\u{0}\u{FF}\" Bearer realm=")
    }
}
