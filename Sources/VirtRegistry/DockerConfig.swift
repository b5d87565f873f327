import Foundation

/// The credentials of a `kubernetes.io/dockerconfigjson` Secret (`.dockerconfigjson`: `{"auths": {…}}`)
/// or of the older `kubernetes.io/dockercfg` one (`.dockercfg`: the same map without `auths`), looked up
/// the way the kubelet does: by registry host, then by the longest path that is a prefix of the repository.
public struct DockerConfig: Sendable, Equatable {
    /// One entry per key of `auths`, as written (`https://index.docker.io/v1/`, `quay.io`, `127.0.0.1:5000/team`).
    public var entries: [Entry]

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var credentials: RegistryCredentials
    }

    public init(entries: [Entry]) { self.entries = entries }

    /// Reads a Secret's config; `secret` names it in errors.
    public static func parse(_ bytes: [UInt8], secret: String) throws(RegistryError) -> DockerConfig {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw .invalidCredentials(secret: secret, detail: "it is not JSON")
        }
        guard let top = object as? [String: Any] else { throw .invalidCredentials(secret: secret, detail: "it is not a JSON object") }
        let auths: [String: Any]
        if let nested = top["auths"] {
            guard let map = nested as? [String: Any] else { throw .invalidCredentials(secret: secret, detail: "auths is not an object") }
            auths = map
        } else {
            auths = top
        }
        var entries: [Entry] = []
        for (key, value) in auths.sorted(by: { $0.key < $1.key }) {
            guard let fields = value as? [String: Any] else { throw .invalidCredentials(secret: secret, detail: "auths[\(key)] is not an object") }
            var username = fields["username"] as? String ?? ""
            var password = fields["password"] as? String ?? ""
            if let auth = fields["auth"] as? String, !auth.isEmpty {
                guard let decoded = Base64.decode(auth), let text = String(bytes: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
                    throw .invalidCredentials(secret: secret, detail: "auths[\(key)].auth is not base64 of username:password")
                }
                username = String(text[..<colon])
                password = String(text[text.index(after: colon)...])
            }
            guard !username.isEmpty || !password.isEmpty else { continue }
            entries.append(Entry(key: key, credentials: RegistryCredentials(username: username, password: password)))
        }
        return DockerConfig(entries: entries)
    }

    /// The credentials for `reference`, or nil when no entry matches its registry.
    public func credentials(for reference: ImageReference) -> RegistryCredentials? {
        let wanted = Self.normalizedHost(reference.registry)
        var best: (length: Int, credentials: RegistryCredentials)?
        for entry in entries {
            var key = Substring(entry.key)
            if let scheme = key.range(of: "://") { key = key[scheme.upperBound...] }
            let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let host = parts.first, Self.normalizedHost(String(host)) == wanted else { continue }
            var path = parts.count > 1 ? String(parts[1]) : ""
            while path.hasSuffix("/") { path.removeLast() }
            // Docker Hub's own key carries the API version, not a repository.
            if wanted == ImageReference.dockerHub, path == "v1" || path == "v2" { path = "" }
            guard path.isEmpty || reference.repository == path || reference.repository.hasPrefix(path + "/") else { continue }
            if best == nil || path.count > (best?.length ?? 0) { best = (path.count, entry.credentials) }
        }
        return best?.credentials
    }

    /// Docker Hub's many names as one.
    static func normalizedHost(_ host: String) -> String {
        let lower = host.lowercased()
        return ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "docker.io"].contains(lower) ? ImageReference.dockerHub : lower
    }
}
