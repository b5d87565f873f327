import Foundation
import VirtAPI
import VirtError

/// A standard kubeconfig file: clusters, users, contexts and the current context.
///
/// Only what SwiftVirt's clients use is modelled: a cluster's server, CA (inline or file), TLS server name and
/// `insecure-skip-tls-verify`; a user's bearer token (inline or `tokenFile`) or client certificate. Credential
/// plugins (`exec`, `auth-provider`) and basic auth are rejected with an error rather than ignored.
public struct Kubeconfig: Sendable, Equatable {
    /// One entry of `clusters:`.
    public struct Cluster: Sendable, Equatable {
        /// The entry's name, referenced by contexts.
        public var name: String
        /// The API server URL, e.g. `https://127.0.0.1:6443`.
        public var server: String
        /// Decoded `certificate-authority-data`.
        public var certificateAuthorityData: [UInt8]?
        /// `certificate-authority`: a PEM file path, relative to the kubeconfig's directory.
        public var certificateAuthority: String?
        /// `insecure-skip-tls-verify`: do not verify the server certificate.
        public var insecureSkipTLSVerify: Bool
        /// `tls-server-name`: the name expected in the server certificate.
        public var tlsServerName: String?

        /// Creates a cluster entry.
        public init(
            name: String,
            server: String,
            certificateAuthorityData: [UInt8]? = nil,
            certificateAuthority: String? = nil,
            insecureSkipTLSVerify: Bool = false,
            tlsServerName: String? = nil
        ) {
            self.name = name
            self.server = server
            self.certificateAuthorityData = certificateAuthorityData
            self.certificateAuthority = certificateAuthority
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.tlsServerName = tlsServerName
        }
    }

    /// One entry of `users:`.
    public struct User: Sendable, Equatable {
        /// The entry's name, referenced by contexts.
        public var name: String
        /// An inline bearer token.
        public var token: String?
        /// `tokenFile`: a file holding the token, relative to the kubeconfig's directory.
        public var tokenFile: String?
        /// Decoded `client-certificate-data` (PEM).
        public var clientCertificateData: [UInt8]?
        /// `client-certificate`: a PEM file path.
        public var clientCertificate: String?
        /// Decoded `client-key-data` (PEM).
        public var clientKeyData: [UInt8]?
        /// `client-key`: a PEM file path.
        public var clientKey: String?
        /// Set when the user needs something SwiftVirt cannot do (exec plugin, auth provider, basic auth).
        public var unsupportedAuth: String?

        /// Creates a user entry.
        public init(
            name: String,
            token: String? = nil,
            tokenFile: String? = nil,
            clientCertificateData: [UInt8]? = nil,
            clientCertificate: String? = nil,
            clientKeyData: [UInt8]? = nil,
            clientKey: String? = nil,
            unsupportedAuth: String? = nil
        ) {
            self.name = name
            self.token = token
            self.tokenFile = tokenFile
            self.clientCertificateData = clientCertificateData
            self.clientCertificate = clientCertificate
            self.clientKeyData = clientKeyData
            self.clientKey = clientKey
            self.unsupportedAuth = unsupportedAuth
        }
    }

    /// One entry of `contexts:`.
    public struct Context: Sendable, Equatable {
        /// The context's name (`current-context` refers to it).
        public var name: String
        /// The name of the cluster entry to use.
        public var cluster: String
        /// The name of the user entry to use; empty for none.
        public var user: String
        /// The default namespace for commands in this context.
        public var namespace: String?

        /// Creates a context entry.
        public init(name: String, cluster: String, user: String, namespace: String? = nil) {
            self.name = name
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
        }
    }

    /// `clusters:` in file order.
    public var clusters: [Cluster]
    /// `users:` in file order.
    public var users: [User]
    /// `contexts:` in file order.
    public var contexts: [Context]
    /// `current-context`, if set.
    public var currentContext: String?
    /// Where the file was read from (for messages).
    public var path: String?
    /// The directory relative file references resolve against.
    public var baseDirectory: String?

    /// The message for "no kubeconfig found anywhere".
    public static let missingMessage = "no kubeconfig: pass --kubeconfig or set KUBECONFIG (swiftvirtd writes DATA_DIR/kubeconfig)"

    /// Parses kubeconfig YAML. `path` is used in messages; relative file references resolve against
    /// `baseDirectory` (by default the directory of `path`).
    public init(yaml: String, path: String? = nil, baseDirectory: String? = nil) throws(VirtError) {
        let where_ = path.map { " in \($0)" } ?? ""
        let root: JSONValue
        do {
            root = try KubeYAML.document(yaml)
        } catch {
            throw VirtError(.invalid, "cannot read kubeconfig\(where_): \(error.message)")
        }
        guard case .object = root else {
            throw VirtError(.invalid, "kubeconfig\(where_) is not a YAML mapping")
        }
        self.path = path
        self.baseDirectory = baseDirectory ?? path.map { ($0 as NSString).deletingLastPathComponent }
        self.currentContext = root["current-context"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }

        var clusters: [Cluster] = []
        for entry in root["clusters"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, let body = entry["cluster"] else {
                throw VirtError(.invalid, "kubeconfig\(where_): every entry of clusters needs a name and a cluster")
            }
            clusters.append(Cluster(
                name: name,
                server: body["server"]?.stringValue ?? "",
                certificateAuthorityData: try Kubeconfig.base64(body["certificate-authority-data"], what: "cluster \"\(name)\": certificate-authority-data"),
                certificateAuthority: body["certificate-authority"]?.stringValue,
                insecureSkipTLSVerify: body["insecure-skip-tls-verify"]?.boolValue ?? false,
                tlsServerName: body["tls-server-name"]?.stringValue
            ))
        }
        var users: [User] = []
        for entry in root["users"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue else {
                throw VirtError(.invalid, "kubeconfig\(where_): every entry of users needs a name")
            }
            let body = entry["user"] ?? .object([:])
            var unsupported: String?
            if body["exec"] != nil && body["exec"] != .null {
                unsupported = "an exec credential plugin"
            } else if body["auth-provider"] != nil && body["auth-provider"] != .null {
                unsupported = "an auth-provider"
            } else if body["username"]?.stringValue != nil && body["token"] == nil && body["tokenFile"] == nil {
                unsupported = "basic authentication"
            }
            users.append(User(
                name: name,
                token: body["token"]?.stringValue,
                tokenFile: body["tokenFile"]?.stringValue,
                clientCertificateData: try Kubeconfig.base64(body["client-certificate-data"], what: "user \"\(name)\": client-certificate-data"),
                clientCertificate: body["client-certificate"]?.stringValue,
                clientKeyData: try Kubeconfig.base64(body["client-key-data"], what: "user \"\(name)\": client-key-data"),
                clientKey: body["client-key"]?.stringValue,
                unsupportedAuth: unsupported
            ))
        }
        var contexts: [Context] = []
        for entry in root["contexts"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, let body = entry["context"] else {
                throw VirtError(.invalid, "kubeconfig\(where_): every entry of contexts needs a name and a context")
            }
            contexts.append(Context(
                name: name,
                cluster: body["cluster"]?.stringValue ?? "",
                user: body["user"]?.stringValue ?? "",
                namespace: body["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ))
        }
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
    }

    /// Creates a kubeconfig from its parts.
    public init(clusters: [Cluster], users: [User], contexts: [Context], currentContext: String?, path: String? = nil, baseDirectory: String? = nil) {
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
        self.path = path
        self.baseDirectory = baseDirectory
    }

    /// Reads and parses the kubeconfig at `path`.
    public static func load(path: String) throws(VirtError) -> Kubeconfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw VirtError(.forbidden, "cannot read kubeconfig \(path): permission denied")
            }
            throw VirtError(.notFound, "kubeconfig \(path) does not exist: pass --kubeconfig or set KUBECONFIG (swiftvirtd writes DATA_DIR/kubeconfig)")
        }
        return try Kubeconfig(yaml: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Finds the kubeconfig to use: `explicitPath` (from `--kubeconfig`), else the first existing path in
    /// `$KUBECONFIG`, else `~/.kube/config`.
    ///
    /// - Throws: `VirtError.notFound` with ``missingMessage`` when there is none.
    public static func locate(explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(VirtError) -> String {
        if let explicitPath, !explicitPath.isEmpty { return explicitPath }
        let fileManager = FileManager.default
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            if let existing = paths.first(where: { fileManager.fileExists(atPath: $0) }) { return existing }
            if let first = paths.first {
                throw VirtError(.notFound, "KUBECONFIG names \(first), which does not exist: pass --kubeconfig or fix KUBECONFIG (swiftvirtd writes DATA_DIR/kubeconfig)")
            }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        if !home.isEmpty {
            let path = home + "/.kube/config"
            if fileManager.fileExists(atPath: path) { return path }
        }
        throw VirtError(.notFound, missingMessage)
    }

    /// Locates and loads the kubeconfig (see ``locate(explicitPath:environment:)``).
    public static func load(explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(VirtError) -> Kubeconfig {
        try load(path: try locate(explicitPath: explicitPath, environment: environment))
    }

    /// Resolves a context (default: `current-context`) into a client configuration, reading referenced files.
    public func configuration(context contextName: String? = nil) throws(VirtError) -> ClientConfiguration {
        let where_ = path.map { " in \($0)" } ?? ""
        let context: Context
        if let name = contextName ?? currentContext {
            guard let found = contexts.first(where: { $0.name == name }) else {
                throw VirtError(.notFound, "context \"\(name)\" not found\(where_)")
            }
            context = found
        } else if contexts.count == 1, let only = contexts.first {
            context = only
        } else {
            throw VirtError(.invalid, "current-context is not set\(where_): set it with current-context: NAME")
        }
        guard let cluster = clusters.first(where: { $0.name == context.cluster }) else {
            throw VirtError(.notFound, "cluster \"\(context.cluster)\" of context \"\(context.name)\" not found\(where_)")
        }
        guard !cluster.server.isEmpty else {
            throw VirtError(.invalid, "cluster \"\(cluster.name)\"\(where_) has no server")
        }
        var configuration = ClientConfiguration(server: cluster.server)
        configuration.namespace = context.namespace
        configuration.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify
        configuration.tlsServerName = cluster.tlsServerName
        if let data = cluster.certificateAuthorityData {
            configuration.certificateAuthorityPEM = data
        } else if let file = cluster.certificateAuthority {
            configuration.certificateAuthorityPEM = try readFile(file, what: "certificate-authority of cluster \"\(cluster.name)\"")
        }
        if !context.user.isEmpty {
            guard let user = users.first(where: { $0.name == context.user }) else {
                throw VirtError(.notFound, "user \"\(context.user)\" of context \"\(context.name)\" not found\(where_)")
            }
            if let unsupported = user.unsupportedAuth {
                throw VirtError(.unsupported, "user \"\(user.name)\"\(where_) uses \(unsupported), which swiftvirt does not support: use a token or a client certificate")
            }
            if let token = user.token, !token.isEmpty {
                configuration.bearerToken = token
            } else if let file = user.tokenFile {
                let bytes = try readFile(file, what: "tokenFile of user \"\(user.name)\"")
                configuration.bearerToken = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let data = user.clientCertificateData {
                configuration.clientCertificatePEM = data
            } else if let file = user.clientCertificate {
                configuration.clientCertificatePEM = try readFile(file, what: "client-certificate of user \"\(user.name)\"")
            }
            if let data = user.clientKeyData {
                configuration.clientKeyPEM = data
            } else if let file = user.clientKey {
                configuration.clientKeyPEM = try readFile(file, what: "client-key of user \"\(user.name)\"")
            }
            if (configuration.clientCertificatePEM == nil) != (configuration.clientKeyPEM == nil) {
                throw VirtError(.invalid, "user \"\(user.name)\"\(where_) needs both a client certificate and a client key")
            }
        }
        return configuration
    }

    /// Resolves `file` against ``baseDirectory`` unless it is absolute.
    public func resolvedPath(_ file: String) -> String {
        guard !file.hasPrefix("/"), let baseDirectory, !baseDirectory.isEmpty else { return file }
        return baseDirectory + "/" + file
    }

    private func readFile(_ file: String, what: String) throws(VirtError) -> [UInt8] {
        let full = resolvedPath(file)
        guard let data = FileManager.default.contents(atPath: full) else {
            throw VirtError(.notFound, "cannot read the \(what): \(full) does not exist or is not readable")
        }
        return Array(data)
    }

    private static func base64(_ value: JSONValue?, what: String) throws(VirtError) -> [UInt8]? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw VirtError(.invalid, "\(what) is not valid base64")
        }
        return Array(data)
    }
}
