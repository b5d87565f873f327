import Crypto
import Foundation
import VirtAPI
import VirtError

/// The token of an upload into one claim (CDI's `UploadTokenRequest` answers with one): which
/// namespace and claim it admits, and until when, signed with HMAC-SHA256 under a key of the cluster.
///
/// Wire form: `BASE64URL(payload JSON) "." BASE64URL(HMAC)`, the payload `{"namespace":…,"pvc":…,"exp":UNIX}`.
/// The signature is checked before the payload is parsed, so an unsigned payload is never decoded.
public struct UploadToken: Sendable, Equatable {
    public var namespace: String
    public var claim: String
    /// When the token stops being accepted.
    public var expires: Date

    public init(namespace: String, claim: String, expires: Date) {
        self.namespace = namespace
        self.claim = claim
        self.expires = expires
    }

    /// How long an issued token is accepted (CDI's tokens last five minutes; an upload that started by then
    /// runs to its end).
    public static let lifetime: TimeInterval = 5 * 60
    /// Longer presented tokens are refused unread.
    static let maximumLength = 4096
}

/// Issues and checks ``UploadToken``s with one key.
public struct UploadTokenSigner: Sendable {
    /// The key's bytes (a `SymmetricKey` is made for each use: it is not `Sendable`).
    let keyBytes: [UInt8]

    public init(key: [UInt8]) {
        keyBytes = key
    }

    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// A key derived from a secret every API server of the cluster holds (the cluster's token), so that a
    /// token one server issued is accepted by all of them.
    public static func derived(fromClusterSecret secret: String) -> UploadTokenSigner {
        let digest = SHA256.hash(data: Array("swiftvirt upload token key v1\u{0}".utf8) + Array(secret.utf8))
        return UploadTokenSigner(key: Array(digest))
    }

    /// A key of this process only (tests, and a server without credentials).
    public static func random() -> UploadTokenSigner {
        UploadTokenSigner(key: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    public func sign(_ token: UploadToken) -> String {
        let payload: JSONValue = [
            "namespace": .string(token.namespace), "pvc": .string(token.claim),
            "exp": .int(Int64(token.expires.timeIntervalSince1970.rounded(.down))),
        ]
        let bytes = payload.serializedBytes()
        let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: key)
        return Self.base64URL(bytes) + "." + Self.base64URL(Array(mac))
    }

    /// The token `text` stands for, when this key signed it and it has not expired; else an `unauthorized`
    /// error that says why.
    public func verify(_ text: Substring, now: Date = Date()) throws(VirtError) -> UploadToken {
        guard text.utf8.count <= UploadToken.maximumLength, let dot = text.firstIndex(of: "."),
              let payload = Self.unbase64URL(text[..<dot]), let mac = Self.unbase64URL(text[text.index(after: dot)...])
        else { throw Self.refused("it is not an upload token") }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else {
            throw Self.refused("its signature does not match this cluster's key")
        }
        guard let value = try? JSONValue.parse(payload[...]), let namespace = value["namespace"]?.stringValue,
              let claim = value["pvc"]?.stringValue, let expiry = value["exp"]?.intValue, !namespace.isEmpty, !claim.isEmpty
        else { throw Self.refused("its payload is malformed") }
        let expires = Date(timeIntervalSince1970: TimeInterval(expiry))
        guard expires > now else { throw Self.refused("it expired at \(expires.formatted(.iso8601))") }
        return UploadToken(namespace: namespace, claim: claim, expires: expires)
    }

    static func refused(_ why: String) -> VirtError {
        VirtError(.unauthorized, "Unauthorized: the upload token is not valid (\(why)); request a new one with an UploadTokenRequest (swiftvirt image-upload does)")
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64URL(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0.isBase64URL }) else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { Array($0) }
    }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) || (0x30...0x39).contains(self) || self == 0x2D || self == 0x5F
    }
}
