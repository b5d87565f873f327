/// An image reference as Docker and containerd read it: `[registry/]repository[:tag][@digest]`, with
/// Docker Hub's defaults (`ubuntu` is `docker.io/library/ubuntu:latest`, served by
/// `registry-1.docker.io`). A `docker://` prefix (CDI's form) is accepted and dropped.
public struct ImageReference: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The registry's name as written (`quay.io`, `127.0.0.1:5000`), `docker.io` for Docker Hub.
    public var registry: String
    /// The repository inside the registry (`kubevirt/cirros-container-disk-demo`, `library/ubuntu`).
    public var repository: String
    /// The tag; `latest` when neither a tag nor a digest is given.
    public var tag: String?
    /// The digest (`sha256:…`); when present it decides which manifest is pulled, whatever the tag.
    public var digest: String?

    public init(registry: String, repository: String, tag: String? = nil, digest: String? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Docker Hub's name in references.
    public static let dockerHub = "docker.io"

    /// The host (and port) the distribution API is served from.
    public var endpoint: String { registry == Self.dockerHub ? "registry-1.docker.io" : registry }

    /// The tag or digest to ask the manifests endpoint for.
    public var manifestReference: String { digest ?? tag ?? "latest" }

    /// Whether the registry is on this machine (127.0.0.0/8, `localhost`, `[::1]`): Docker and containerd
    /// talk plain HTTP to such a registry when it does not speak TLS.
    public var isLoopback: Bool {
        let host = Self.host(of: registry)
        if host == "localhost" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in !octet.isEmpty && octet.count <= 3 && octet.allSatisfy(\.isASCIIDigit) && (Int(octet) ?? 256) < 256 }
    }

    /// The canonical form: `registry/repository[:tag][@digest]`.
    public var description: String {
        var text = "\(registry)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The host part of `registry/…` without the port (`[::1]` keeps its brackets).
    static func host(of registry: String) -> Substring {
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") { return registry[...close] }
        return registry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? Substring(registry)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isLowercaseAlphanumeric: Bool { isASCII && (isNumber || ("a"..."z").contains(self)) }
}
