import Foundation

/// Sending: finding the scheme, authenticating on a 401, following redirects, reading errors.
extension RegistrySession {
    /// Sends a GET for `path` on the registry, authenticating when it asks and following up to five
    /// redirects; a non-success answer becomes the `RegistryError` that carries the registry's message.
    func send(path: String, headers: [(String, String)], sink: BlobSink?, what: String) async throws(RegistryError) -> RegistryResponse {
        var retriedAuthentication = false
        while true {
            let base = try await resolveBase()
            var request = RegistryRequest(url: base + path, headers: headers.map { (name: $0.0, value: $0.1) })
            if let authorization { request.headers.append((name: "Authorization", value: authorization)) }
            let response = try await follow(request, sink: sink)
            if response.status == 401, !retriedAuthentication {
                retriedAuthentication = true
                let had = authorization
                try await authenticate(challengeHeader: response.headers["www-authenticate"], failed: response, what: what)
                if authorization != nil, authorization != had { continue }
            }
            guard response.isSuccess else { throw error(for: response, what: what) }
            return response
        }
    }

    /// The base URL: `https://` unless the registry is on loopback and does not speak TLS, then `http://`.
    /// The first request of the session (`GET /v2/`) finds it out and reads the registry's challenge.
    func resolveBase() async throws(RegistryError) -> String {
        if let base { return base }
        let schemes = reference.isLoopback ? ["https", "http"] : ["https"]
        var failures: [String] = []
        for scheme in schemes {
            let candidate = "\(scheme)://\(reference.endpoint)"
            do {
                let response = try await transport.send(RegistryRequest(url: candidate + "/v2/"), sink: nil)
                // A registry that speaks only TLS answers plain HTTP with 400: why https failed (an
                // untrusted certificate, say) is the answer, not the 400.
                if scheme == "http", response.status == 400, !failures.isEmpty {
                    failures.append("http: 400 (the registry speaks only TLS)")
                    break
                }
                base = candidate
                if response.status == 401 {
                    try await authenticate(challengeHeader: response.headers["www-authenticate"], failed: response, what: reference.description)
                }
                return candidate
            } catch let error as RegistryError {
                throw error
            } catch {
                failures.append(schemes.count > 1 ? "\(scheme): \(Self.describe(error))" : Self.describe(error))
            }
        }
        throw .unreachable(registry: reference.registry, detail: failures.joined(separator: "; "))
    }

    /// Sends `request`, following redirects (a blob may live elsewhere); credentials go only to the
    /// registry's own host.
    func follow(_ request: RegistryRequest, sink: BlobSink?) async throws(RegistryError) -> RegistryResponse {
        var request = request
        for _ in 0..<6 {
            let response: RegistryResponse
            do {
                response = try await transport.send(request, sink: sink)
            } catch {
                throw .unreachable(registry: Self.hostPart(of: request.url) ?? reference.registry, detail: Self.describe(error))
            }
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.headers["location"] else { return response }
            let next = Self.resolve(location, against: request.url)
            if Self.hostPart(of: next) != Self.hostPart(of: request.url) {
                request.headers.removeAll { $0.name.lowercased() == "authorization" }
            }
            request.url = next
        }
        throw .failed(reference: reference.description, status: 310, message: "too many redirects")
    }

    /// Sets `authorization` from a 401's challenge: a bearer token from the realm for this repository's
    /// pull scope, or basic credentials. Without a challenge it can act on, the 401 stands.
    func authenticate(challengeHeader: String?, failed response: RegistryResponse, what: String) async throws(RegistryError) {
        let challenges = AuthChallenge.parse(challengeHeader ?? "")
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }), let realm = bearer.realm {
            authorization = "Bearer " + (try await token(realm: realm, challenge: bearer, what: what))
        } else if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credentials else { throw error(for: response, what: what) }
            if authorization == credentials.basicAuthorization { throw error(for: response, what: what) }
            authorization = credentials.basicAuthorization
        } else {
            throw error(for: response, what: what)
        }
    }

    /// GETs a token from the token service (`realm?service=…&scope=repository:NAME:pull`), sending the
    /// credentials as basic auth when there are some (Docker's token flow; anonymous otherwise).
    func token(realm: String, challenge: AuthChallenge, what: String) async throws(RegistryError) -> String {
        guard var components = URLComponents(string: realm), let scheme = components.scheme?.lowercased(),
              scheme == "https" || (scheme == "http" && reference.isLoopback && Self.isLoopbackURL(realm))
        else {
            throw .invalidResponse(reference: what, detail: "the token realm \(realm) is not an https URL")
        }
        var query = components.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        let scope = challenge.parameters["scope"] ?? "repository:\(reference.repository):pull"
        for item in scope.split(separator: " ") { query.append(URLQueryItem(name: "scope", value: String(item))) }
        components.queryItems = query
        guard let url = components.string else { throw .invalidResponse(reference: what, detail: "the token realm \(realm) is not a URL") }
        var request = RegistryRequest(url: url)
        if let credentials { request.headers.append((name: "Authorization", value: credentials.basicAuthorization)) }
        let response = try await follow(request, sink: nil)
        guard response.isSuccess else {
            if response.status == 401 || response.status == 403 {
                throw .denied(reference: what, status: response.status, message: Self.registryMessage(response), withCredentials: credentials != nil)
            }
            throw .failed(reference: what, status: response.status, message: "from the token service: " + Self.registryMessage(response))
        }
        return try TokenResponse.decode(response.body, reference: what)
    }

    /// The error a non-success answer means, with the registry's own words.
    func error(for response: RegistryResponse, what: String) -> RegistryError {
        let message = Self.registryMessage(response)
        switch response.status {
        case 401, 403: return .denied(reference: what, status: response.status, message: message, withCredentials: credentials != nil)
        case 404: return .notFound(reference: what, message: message)
        default: return .failed(reference: what, status: response.status, message: message)
        }
    }

    /// `CODE: message; CODE: message` from a distribution error body, else the body's first line, else the
    /// status's reason phrase.
    static func registryMessage(_ response: RegistryResponse) -> String {
        if let errors = RegistryErrorBody.decode(response.body), !errors.isEmpty {
            return errors.map { error in [error.code, error.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ") }
                .joined(separator: "; ")
        }
        let text = String(decoding: response.body.prefix(512), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        if !text.isEmpty, !text.hasPrefix("<"), !text.hasPrefix("{") { return text }
        return HTTPStatusText.phrase(response.status)
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    static func hostPart(of url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host else { return nil }
        return components.port.map { "\(host):\($0)" } ?? host
    }

    static func isLoopbackURL(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host else { return false }
        return ImageReference(registry: host.contains(":") ? "[\(host)]" : host, repository: "x").isLoopback
    }

    static func resolve(_ location: String, against url: String) -> String {
        guard let base = URL(string: url), let resolved = URL(string: location, relativeTo: base) else { return location }
        return resolved.absoluteString
    }
}
