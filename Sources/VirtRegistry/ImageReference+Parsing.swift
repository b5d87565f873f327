/// Reading references by the grammar of distribution's `reference` package.
extension ImageReference {
    /// Parses `text` (`quay.io/kubevirt/cirros-container-disk-demo:v1.2`, `ubuntu`, `127.0.0.1:5000/guest@sha256:…`).
    public static func parse(_ text: String) throws(RegistryError) -> ImageReference {
        var rest = Substring(text)
        if rest.hasPrefix("docker://") { rest = rest.dropFirst(9) }
        func fail(_ detail: String) -> RegistryError { .invalidReference(reference: text, detail: detail) }
        guard !rest.isEmpty else { throw fail("it is empty") }
        guard rest.count <= 4096 else { throw fail("it is longer than 4096 characters") }

        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let value = String(rest[rest.index(after: at)...])
            try checkDigest(value, fail: fail)
            digest = value
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let value = String(rest[rest.index(after: colon)...])
            guard isTag(value) else { throw fail("tag \"\(value)\" must be 1 to 128 of letters, digits, _ . - and not start with . or -") }
            tag = value
            rest = rest[..<colon]
        }

        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        var registry = dockerHub
        if components.count > 1, let first = components.first, first.contains(".") || first.contains(":") || first == "localhost" || first.contains(where: \.isUppercase) {
            guard isRegistry(first) else { throw fail("registry \"\(first)\" is not a host name or address with an optional port") }
            registry = first == "index.docker.io" ? dockerHub : String(first)
            components.removeFirst()
        }
        for component in components where !isPathComponent(component) {
            throw fail(component.isEmpty
                ? "the repository has an empty path component"
                : "repository component \"\(component)\" must be lowercase letters and digits, separated by . _ __ or -")
        }
        if registry == dockerHub, components.count == 1 { components.insert("library", at: 0) }
        let repository = components.joined(separator: "/")
        guard repository.count <= 255 else { throw fail("the repository is longer than 255 characters") }
        if tag == nil, digest == nil { tag = "latest" }
        return ImageReference(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// `sha256:` + 64 lowercase hex digits, or `sha512:` + 128.
    static func checkDigest(_ value: String, fail: (String) -> RegistryError) throws(RegistryError) {
        guard isDigest(value) else { throw fail("digest \"\(value)\" must be sha256: and 64 lowercase hex digits (or sha512: and 128)") }
    }

    /// Whether `value` is a digest this client can verify.
    public static func isDigest(_ value: String) -> Bool {
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let lengths: [Substring: Int] = ["sha256": 64, "sha512": 128]
        guard let length = lengths[parts[0]] else { return false }
        return parts[1].count == length && parts[1].allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    static func isTag(_ value: String) -> Bool {
        guard let first = value.first, value.count <= 128, first != ".", first != "-" else { return false }
        return value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isPathComponent(_ value: Substring) -> Bool {
        guard let first = value.first, let last = value.last, first.isLowercaseAlphanumeric, last.isLowercaseAlphanumeric else { return false }
        var separator = ""
        for character in value {
            if character.isLowercaseAlphanumeric {
                guard separator.isEmpty || separator == "." || separator == "_" || separator == "__" || separator.allSatisfy({ $0 == "-" }) else {
                    return false
                }
                separator = ""
            } else if character == "." || character == "_" || character == "-" {
                separator.append(character)
            } else {
                return false
            }
        }
        return true
    }

    /// A host name (labels of letters, digits and -), an IPv4 address or a bracketed IPv6 address, with
    /// an optional port.
    static func isRegistry(_ value: Substring) -> Bool {
        var host = value
        var port: Substring?
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return false }
            host = value[...close]
            let after = value[value.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
            let inside = host.dropFirst().dropLast()
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
        } else {
            if let colon = value.firstIndex(of: ":") {
                host = value[..<colon]
                port = value[value.index(after: colon)...]
            }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            guard !labels.isEmpty, labels.allSatisfy({ label in
                guard let first = label.first, let last = label.last, first != "-", last != "-" else { return false }
                return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }) else { return false }
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), let number = Int(port), number > 0, number < 65536 else { return false }
        }
        return true
    }
}
