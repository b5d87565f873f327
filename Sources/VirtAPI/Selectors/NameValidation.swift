/// Kubernetes' name and label checks (`k8s.io/apimachinery/pkg/util/validation`).
///
/// Each check returns `nil` when the text is valid, or a message phrased as Kubernetes phrases it
/// (several problems are joined with `"; "`), ready to be put in a `VirtError.Cause`.
public enum NameValidation {
    /// The longest DNS-1123 subdomain (most object names, label key prefixes).
    public static let dns1123SubdomainMaxLength = 253
    /// The longest DNS-1123 label (namespace names, service names).
    public static let dns1123LabelMaxLength = 63
    /// The longest label value, and the longest name part of a label key.
    public static let labelValueMaxLength = 63

    // The messages are Kubernetes' own, word for word (including the double spaces after the commas).
    static let dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
        + "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        + "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let qualifiedNamePartMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        + "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
        + "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
        + "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    /// Checks a DNS-1123 subdomain: at most 253 characters of `[a-z0-9.-]`, dot-separated parts that
    /// start and end with `[a-z0-9]` (e.g. `example.com`, `my-vm`). Most object names must be one.
    public static func dns1123Subdomain(_ value: String) -> String? {
        var problems: [String] = []
        if value.utf8.count > dns1123SubdomainMaxLength {
            problems.append(maxLengthMessage(dns1123SubdomainMaxLength))
        }
        if !isDNS1123Subdomain(value) {
            problems.append(dns1123SubdomainMessage)
        }
        return joined(problems)
    }

    /// Checks a DNS-1123 label: at most 63 characters of `[a-z0-9-]`, starting and ending with
    /// `[a-z0-9]` (e.g. `my-name`). Namespace names must be one.
    public static func dns1123Label(_ value: String) -> String? {
        var problems: [String] = []
        if value.utf8.count > dns1123LabelMaxLength {
            problems.append(maxLengthMessage(dns1123LabelMaxLength))
        }
        if !isDNS1123Label(value) {
            problems.append(dns1123LabelMessage)
        }
        return joined(problems)
    }

    /// Checks a label (or annotation) key: an optional DNS-1123 subdomain prefix and `/`, then a name of
    /// at most 63 characters of `[A-Za-z0-9-_.]` that starts and ends with an alphanumeric character
    /// (e.g. `app`, `kubevirt.io/domain`).
    public static func labelKey(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        var problems: [String] = []
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                problems.append("prefix part must be non-empty")
            } else if let message = dns1123Subdomain(String(prefix)) {
                problems.append("prefix part " + message)
            }
        default:
            return "a qualified name " + qualifiedNamePartMessage
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
        if name.isEmpty {
            problems.append("name part must be non-empty")
        } else {
            if name.utf8.count > labelValueMaxLength {
                problems.append("name part " + maxLengthMessage(labelValueMaxLength))
            }
            if !isQualifiedNamePart(name) {
                problems.append("name part " + qualifiedNamePartMessage)
            }
        }
        return joined(problems)
    }

    /// Checks a label value: empty, or at most 63 characters of `[A-Za-z0-9-_.]` that start and end with
    /// an alphanumeric character.
    public static func labelValue(_ value: String) -> String? {
        var problems: [String] = []
        if value.utf8.count > labelValueMaxLength {
            problems.append(maxLengthMessage(labelValueMaxLength))
        }
        if !value.isEmpty && !isQualifiedNamePart(Substring(value)) {
            problems.append(labelValueMessage)
        }
        return joined(problems)
    }

    // MARK: - Character rules

    static func maxLengthMessage(_ length: Int) -> String {
        "must be no more than \(length) characters"
    }

    private static func joined(_ problems: [String]) -> String? {
        problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    private static func isDNS1123Label(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
            && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isDNS1123Label(_ value: String) -> Bool {
        isDNS1123Label(Array(value.utf8)[...])
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
    private static func isDNS1123Subdomain(_ value: String) -> Bool {
        Array(value.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy(isDNS1123Label)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    private static func isQualifiedNamePart(_ value: Substring) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last)
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }
}
