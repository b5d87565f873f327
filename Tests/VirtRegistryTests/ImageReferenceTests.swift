import Testing

@testable import VirtRegistry

/// References read as Docker and containerd read them.
@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("ubuntu", "docker.io", "library/ubuntu", "latest", nil),
        ("docker.io/library/ubuntu:24.04", "docker.io", "library/ubuntu", "24.04", nil),
        ("index.docker.io/kubevirt/virt-api", "docker.io", "kubevirt/virt-api", "latest", nil),
        ("kubevirt/cirros-container-disk-demo:v1.2.0", "docker.io", "kubevirt/cirros-container-disk-demo", "v1.2.0", nil),
        ("quay.io/kubevirt/cirros-container-disk-demo", "quay.io", "kubevirt/cirros-container-disk-demo", "latest", nil),
        ("docker://quay.io/containerdisks/fedora:41", "quay.io", "containerdisks/fedora", "41", nil),
        ("127.0.0.1:5000/guest:v1", "127.0.0.1:5000", "guest", "v1", nil),
        ("localhost/guest", "localhost", "guest", "latest", nil),
        ("[::1]:5000/a/b/c:t", "[::1]:5000", "a/b/c", "t", nil),
        ("registry.example.com/a__b/c-d--e.f_g:T_1.x-y", "registry.example.com", "a__b/c-d--e.f_g", "T_1.x-y", nil),
    ] as [(String, String, String, String?, String?)])
    func parses(_ text: String, registry: String, repository: String, tag: String?, digest: String?) throws {
        let reference = try ImageReference.parse(text)
        #expect(reference.registry == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
        #expect(reference.digest == digest)
    }

    @Test func aDigestDecidesAndATagBesideItIsKept() throws {
        let hex = String(repeating: "ab", count: 32)
        let pinned = try ImageReference.parse("127.0.0.1:5000/guest@sha256:\(hex)")
        #expect(pinned.tag == nil && pinned.digest == "sha256:\(hex)")
        #expect(pinned.manifestReference == "sha256:\(hex)")
        let both = try ImageReference.parse("quay.io/x/y:v1@sha256:\(hex)")
        #expect(both.tag == "v1" && both.manifestReference == "sha256:\(hex)")
        #expect(both.description == "quay.io/x/y:v1@sha256:\(hex)")
    }

    @Test func dockerHubIsServedByItsRegistryHost() throws {
        #expect(try ImageReference.parse("ubuntu").endpoint == "registry-1.docker.io")
        #expect(try ImageReference.parse("quay.io/a/b").endpoint == "quay.io")
        #expect(try ImageReference.parse("127.0.0.1:5000/a").endpoint == "127.0.0.1:5000")
    }

    @Test func onlyLoopbackRegistriesAreLoopback() throws {
        for text in ["127.0.0.1:5000/a", "127.1.2.3/a", "localhost:5000/a", "localhost/a", "[::1]:5000/a", "[::1]/a"] {
            #expect(try ImageReference.parse(text).isLoopback, "\(text)")
        }
        for text in ["128.0.0.1:5000/a", "127.0.0.256/a", "127.0.0/x/a", "localhost.example.com/a", "quay.io/a", "ubuntu", "10.0.0.1:5000/a", "[::2]/a"] {
            #expect(try !ImageReference.parse(text).isLoopback, "\(text)")
        }
    }

    @Test(arguments: [
        "", "docker://", "Ubuntu", "quay.io/Kubevirt/x", "quay.io/a//b", "quay.io/a/", "quay.io/-a", "quay.io/a-",
        "quay.io/a:", "quay.io/a:-tag", "quay.io/a:.tag", "quay.io/a:t@g", "quay.io/a@sha256:abc", "quay.io/a@md5:" + String(repeating: "0", count: 32),
        "quay.io/a@sha256:" + String(repeating: "A", count: 64), "bad_host.io:5000/a", "host:99999/a", "host:/a", "[::1/a", "quay.io/a b",
        "quay.io/a:" + String(repeating: "t", count: 129),
    ])
    func refuses(_ text: String) {
        #expect(throws: RegistryError.self) { try ImageReference.parse(text) }
    }

    @Test func aRefusalSaysWhatIsWrongAndWhatIsRight() {
        #expect(throws: RegistryError.invalidReference(
            reference: "quay.io/Kubevirt/x", detail: "repository component \"Kubevirt\" must be lowercase letters and digits, separated by . _ __ or -")) {
            try ImageReference.parse("quay.io/Kubevirt/x")
        }
        let message = RegistryError.invalidReference(reference: "x", detail: "d").description
        #expect(message.contains("registry/repository:tag"))
    }
}
