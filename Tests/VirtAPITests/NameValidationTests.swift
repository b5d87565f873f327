import Testing

@testable import VirtAPI

@Suite struct NameValidationTests {
    @Test(arguments: ["a", "0", "my-vm", "example.com", "a.b-c.d", "1-2-3", String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 189)])
    func validSubdomains(name: String) {
        #expect(NameValidation.dns1123Subdomain(name) == nil)
    }

    @Test(arguments: ["", "-a", "a-", "A", "my_vm", "a..b", ".a", "a.", "a.-b", "é", "a b", "vm/1"])
    func invalidSubdomains(name: String) {
        #expect(NameValidation.dns1123Subdomain(name) == NameValidation.dns1123SubdomainMessage)
    }

    @Test func subdomainMessageReadsLikeKubernetes() {
        #expect(
            NameValidation.dns1123Subdomain("My.VM")?.hasPrefix(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com'"
            ) == true)
    }

    @Test func subdomainLength() {
        let longest = String(repeating: "a", count: 253)
        #expect(NameValidation.dns1123Subdomain(longest) == nil)
        #expect(NameValidation.dns1123Subdomain(longest + "a") == "must be no more than 253 characters")
        let both = NameValidation.dns1123Subdomain(longest + "A")
        #expect(both == "must be no more than 253 characters; " + NameValidation.dns1123SubdomainMessage)
    }

    @Test(arguments: ["a", "0", "my-name", "123-abc", String(repeating: "x", count: 63)])
    func validLabels(name: String) {
        #expect(NameValidation.dns1123Label(name) == nil)
    }

    @Test(arguments: ["", "-a", "a-", "Abc", "a.b", "a_b"])
    func invalidLabels(name: String) {
        #expect(NameValidation.dns1123Label(name) == NameValidation.dns1123LabelMessage)
    }

    @Test func labelLength() {
        #expect(NameValidation.dns1123Label(String(repeating: "x", count: 64)) == "must be no more than 63 characters")
    }

    @Test(arguments: [
        "app", "App", "a", "my.name", "my_name", "123-abc", "kubevirt.io/domain", "app.kubernetes.io/name",
        "vm.kubevirt.io/os", String(repeating: "k", count: 63), "example.com/" + String(repeating: "k", count: 63),
    ])
    func validLabelKeys(key: String) {
        #expect(NameValidation.labelKey(key) == nil)
    }

    @Test func invalidLabelKeys() {
        #expect(NameValidation.labelKey("")?.hasPrefix("name part must be non-empty") == true)
        #expect(NameValidation.labelKey("-app")?.hasPrefix("name part must consist of alphanumeric characters, '-', '_' or '.'") == true)
        #expect(NameValidation.labelKey("app_")?.hasPrefix("name part must consist of") == true)
        #expect(NameValidation.labelKey("a b")?.hasPrefix("name part must consist of") == true)
        #expect(NameValidation.labelKey(String(repeating: "k", count: 64)) == "name part must be no more than 63 characters")
        #expect(NameValidation.labelKey("/app") == "prefix part must be non-empty")
        #expect(NameValidation.labelKey("example.com/") == "name part must be non-empty")
        #expect(NameValidation.labelKey("Example.com/app")?.hasPrefix("prefix part a lowercase RFC 1123 subdomain must consist of") == true)
        #expect(NameValidation.labelKey("a/b/c")?.hasPrefix("a qualified name must consist of alphanumeric characters") == true)
        #expect(NameValidation.labelKey("a/b/c")?.hasSuffix("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')") == true)
        #expect(NameValidation.labelKey(String(repeating: "p", count: 254) + "/app") == "prefix part must be no more than 253 characters")
    }

    @Test(arguments: ["", "a", "MyValue", "my_value", "12345", "v1.2-rc_3", String(repeating: "v", count: 63)])
    func validLabelValues(value: String) {
        #expect(NameValidation.labelValue(value) == nil)
    }

    @Test(arguments: ["-a", "a-", "_a", "a.", "a b", "a/b", "é", "a:b"])
    func invalidLabelValues(value: String) {
        #expect(NameValidation.labelValue(value) == NameValidation.labelValueMessage)
        #expect(NameValidation.labelValue(value)?.hasPrefix("a valid label must be an empty string or consist of alphanumeric characters") == true)
    }

    @Test func labelValueLength() {
        #expect(NameValidation.labelValue(String(repeating: "v", count: 64)) == "must be no more than 63 characters")
    }
}
