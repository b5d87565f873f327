import Crypto
import Foundation
import SwiftASN1
import VirtAPI
import VirtError
import X509

/// The CA, serving certificate, admin token and kubeconfig a daemon writes on first start (and reuses).
public struct ServerCredentials: Sendable {
    public var caPEM: String
    public var certificatePEM: String
    public var privateKeyPEM: String
    public var token: String

    /// Loads the credentials under `dataDir/pki`, creating any that are missing. The serving certificate
    /// is made again when its names don't cover `hosts`.
    public static func loadOrCreate(dataDir: String, hosts: [String]) throws -> ServerCredentials {
        let fm = FileManager.default
        let pki = dataDir + "/pki"
        try fm.createDirectory(atPath: pki, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caCertPath = pki + "/ca.crt", caKeyPath = pki + "/ca.key"
        let certPath = pki + "/server.crt", keyPath = pki + "/server.key", hostsPath = pki + "/server.hosts"
        let tokenPath = dataDir + "/token"

        let caKey: P256.Signing.PrivateKey
        let caCertificate: Certificate
        if let keyText = try? String(contentsOfFile: caKeyPath, encoding: .utf8),
           let certText = try? String(contentsOfFile: caCertPath, encoding: .utf8)
        {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: keyText)
            caCertificate = try Certificate(pemEncoded: certText)
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName("swiftvirt-ca") }
            caCertificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
                notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(10 * 365 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: .init(caKey))
            try write(caKey.pemRepresentation, to: caKeyPath, mode: 0o600)
            try write(try caCertificate.serializeAsPEM().pemString, to: caCertPath, mode: 0o644)
        }

        let wantedHosts = Set(hosts + ["localhost", "127.0.0.1", "::1", ProcessInfo.processInfo.hostName]).sorted()
        let recordedHosts = (try? String(contentsOfFile: hostsPath, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        if !fm.fileExists(atPath: certPath) || !fm.fileExists(atPath: keyPath) || !Set(wantedHosts).isSubset(of: Set(recordedHosts)) {
            let key = P256.Signing.PrivateKey()
            var names: [GeneralName] = []
            for host in wantedHosts where !host.isEmpty {
                if let bytes = IPAddress.bytes(host) {
                    names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
                } else {
                    names.append(.dnsName(host))
                }
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(2 * 365 * 86400),
                issuer: caCertificate.subject, subject: try DistinguishedName { CommonName("swiftvirt-apiserver") },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(names)
                },
                issuerPrivateKey: .init(caKey))
            try write(key.pemRepresentation, to: keyPath, mode: 0o600)
            try write(try certificate.serializeAsPEM().pemString, to: certPath, mode: 0o644)
            try write(wantedHosts.joined(separator: "\n"), to: hostsPath, mode: 0o644)
        }

        var token = (try? String(contentsOfFile: tokenPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if token.isEmpty {
            token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            try write(token + "\n", to: tokenPath, mode: 0o600)
        }
        return ServerCredentials(
            caPEM: try String(contentsOfFile: caCertPath, encoding: .utf8),
            certificatePEM: try String(contentsOfFile: certPath, encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: keyPath, encoding: .utf8),
            token: token)
    }

    /// Writes `DATA_DIR/kubeconfig` for the admin user.
    public func writeKubeconfig(path: String, server: String) throws {
        let ca = Data(caPEM.utf8).base64EncodedString()
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: swiftvirt
              cluster:
                server: \(server)
                certificate-authority-data: \(ca)
            users:
            - name: admin
              user:
                token: \(token)
            contexts:
            - name: swiftvirt
              context:
                cluster: swiftvirt
                user: admin
                namespace: default
            current-context: swiftvirt
            preferences: {}

            """
        try Self.write(text, to: path, mode: 0o600)
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw VirtError.internalError("cannot write \(path): check that the data directory is writable")
        }
        guard rename(temporary, path) == 0 else {
            throw VirtError.internalError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Textual IP addresses to bytes, for certificate names.
enum IPAddress {
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
