import Crypto
import Foundation
import Logging
import SwiftASN1
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile
import X509

/// The node agent's serving certificate for its endpoint, issued by the cluster CA when the agent
/// registers: it makes a key, asks with a `certificates.k8s.io/v1` CertificateSigningRequest (signer
/// `swiftvirt.io/node-serving`, subject `system:node:NAME`, the node's names and addresses), waits for the
/// API server's signer, and keeps key and certificate in `directory` for the next start.
public struct NodeServingCertificate: Sendable {
    public var certificatePEM: String
    public var privateKeyPEM: String

    static let signerName = "swiftvirt.io/node-serving"
    static let refusals: Set<String> = ["Denied", "Failed"]
    static let path = ResourcePath(group: "certificates.k8s.io", version: "v1", resource: "certificatesigningrequests")

    /// The certificate in `directory` when it is still good for `addresses` and signed by `caPEM`, else a
    /// new one from the API server.
    public static func obtain(client: any APIClient, nodeName: String, addresses: [String], caPEM: String, directory: String,
                              timeout: Duration = .seconds(60), logger: Logger) async throws -> NodeServingCertificate {
        let certPath = directory + "/node.crt", keyPath = directory + "/node.key"
        if let kept = reuse(certPath: certPath, keyPath: keyPath, nodeName: nodeName, addresses: addresses, caPEM: caPEM) { return kept }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        let request = try makeRequest(key: key, nodeName: nodeName, addresses: addresses)
        let name = "node-serving-\(nodeName)-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await client.create(path, body: [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": ["name": .string(name)],
            "spec": [
                "request": .string(Data(request.utf8).base64EncodedString()), "signerName": .string(signerName),
                "usages": ["digital signature", "key encipherment", "server auth"],
            ],
        ])
        let deadline = ContinuousClock.now + timeout
        while true {
            let object = try await client.get(path.named(name))
            if let encoded = object[path: ["status", "certificate"]]?.stringValue, let data = Data(base64Encoded: encoded),
               let pem = String(data: data, encoding: .utf8)
            {
                let issued = NodeServingCertificate(certificatePEM: pem, privateKeyPEM: key.pemRepresentation)
                try write(issued.privateKeyPEM, to: keyPath, mode: 0o600)
                try write(issued.certificatePEM, to: certPath, mode: 0o644)
                logger.info("node \(nodeName): serving certificate issued (certificate request \(name))")
                return issued
            }
            let conditions: [JSONValue] = object[path: ["status", "conditions"]]?.arrayValue ?? []
            if let failed = conditions.first(where: { Self.refusals.contains($0["type"]?.stringValue ?? "") }) {
                let how: String = failed["type"]?.stringValue ?? "refused"
                let why: String = failed["message"]?.stringValue ?? ""
                throw VirtError(.invalid, "certificate request \(name) for node \(nodeName)'s endpoint was \(how): \(why)")
            }
            guard ContinuousClock.now < deadline else {
                throw VirtError(.timeout, "certificate request \(name) for node \(nodeName)'s endpoint was not signed within \(timeout): is the API server's signer running (swiftvirtd --role api|all)?")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A PEM certificate request for `system:node:NAME` with the node's name and addresses.
    static func makeRequest(key: P256.Signing.PrivateKey, nodeName: String, addresses: [String]) throws -> String {
        var names: [GeneralName] = [.dnsName(nodeName)]
        for address in addresses {
            if let bytes = ipBytes(address) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
            } else if address != nodeName {
                names.append(.dnsName(address))
            }
        }
        let extensions = try Certificate.Extensions { SubjectAlternativeNames(names) }
        let attributes = try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))])
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("system:node:\(nodeName)") },
            privateKey: .init(key), attributes: attributes, signatureAlgorithm: .ecdsaWithSHA256)
        return try request.serializeAsPEM().pemString
    }

    /// The kept certificate, if it exists, is this node's, matches the kept key, was signed by this CA,
    /// covers `addresses` and has a month left.
    static func reuse(certPath: String, keyPath: String, nodeName: String, addresses: [String], caPEM: String) -> NodeServingCertificate? {
        guard let certText = try? String(contentsOfFile: certPath, encoding: .utf8),
              let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8),
              let key = try? P256.Signing.PrivateKey(pemRepresentation: keyText),
              let certificate = try? Certificate(pemEncoded: certText),
              certificate.publicKey == Certificate.PublicKey(key.publicKey),
              certificate.subject.flatMap({ $0 }).contains(where: { $0.type == .RDNAttributeType.commonName && String($0.value) == "system:node:\(nodeName)" }),
              let ca = try? Certificate(pemEncoded: caPEM),
              certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate),
              certificate.notValidAfter > Date().addingTimeInterval(30 * 86400),
              let names = try? certificate.extensions.subjectAlternativeNames
        else { return nil }
        let covered = Set(names.compactMap { name -> String? in
            switch name {
            case .dnsName(let dns): return dns
            case .ipAddress(let octets): return ipText(Array(octets.bytes))
            default: return nil
            }
        })
        guard Set(addresses).isSubset(of: covered) else { return nil }
        return NodeServingCertificate(certificatePEM: certText, privateKeyPEM: keyText)
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]),
              rename(temporary, path) == 0
        else {
            throw VirtError.internalError("cannot write \(path): check that the data directory is writable")
        }
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func ipText(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : bytes.count == 16 ? AF_INET6 : -1
        guard family != -1 else { return nil }
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(cString: buffer) : nil
    }
}
