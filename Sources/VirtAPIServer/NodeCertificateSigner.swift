import Crypto
import Foundation
import Logging
import ServiceLifecycle
import SwiftASN1
import VirtAPI
import VirtError
import VirtStore
import X509

/// Signs node agents' serving certificates: a `certificates.k8s.io/v1` CertificateSigningRequest with
/// signer `swiftvirt.io/node-serving` from an authenticated client is approved and issued by the cluster
/// CA, as Kubernetes' signer does for kubelets' serving certificates. The request must name the node as
/// `system:node:NAME` and ask only for that node's names and addresses, for server use. It runs inside the
/// API server, which holds the CA key.
public actor NodeCertificateSigner: Service {
    /// The signer name node agents ask for.
    public static let signerName = "swiftvirt.io/node-serving"
    /// How long an issued certificate is valid.
    static let lifetime: TimeInterval = 365 * 86400

    let handler: ResourceHandler
    let caKey: P256.Signing.PrivateKey
    let caCertificate: Certificate
    let logger: Logger

    public init(handler: ResourceHandler, dataDir: String, logger: Logger) throws {
        self.handler = handler
        let pki = dataDir + "/pki"
        caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: pki + "/ca.key", encoding: .utf8))
        caCertificate = try Certificate(pemEncoded: String(contentsOfFile: pki + "/ca.crt", encoding: .utf8))
        self.logger = logger
    }

    var resource: String? {
        handler.registry.resource(group: "certificates.k8s.io", version: "v1", plural: "certificatesigningrequests")?.storeResource
    }

    public func run() async throws {
        guard let resource else { return }
        try await cancelWhenGracefulShutdown {
            try await self.loop(resource: resource)
        }
    }

    func loop(resource: String) async throws {
        let page = try await handler.store.list(StoreScope(resource: resource), startAfter: nil, limit: 0, filter: nil)
        for item in page.items { await examine(item.key) }
        let events = try await handler.store.watch(StoreScope(resource: resource), afterRevision: page.revision)
        for try await event in events where event.kind != .deleted {
            await examine(event.key)
        }
    }

    /// Issues the certificate of one request, unless it is not ours, issued already, or denied.
    func examine(_ key: StoreKey) async {
        for _ in 0..<5 {
            guard let stored = try? await handler.store.get(key) else { return }
            var object = stored.object
            guard object[path: ["spec", "signerName"]]?.stringValue == Self.signerName,
                  object[path: ["status", "certificate"]] == nil,
                  !(object[path: ["status", "conditions"]]?.arrayValue ?? []).contains(where: { $0["type"]?.stringValue == "Denied" || $0["type"]?.stringValue == "Failed" })
            else { return }
            let now = Timestamp.now()
            var conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
            do {
                let pem = try issue(object)
                conditions.append(["type": "Approved", "status": "True", "reason": "AutoApproved",
                                   "message": "SwiftVirt approves node agents' serving certificates", "lastUpdateTime": .string(now), "lastTransitionTime": .string(now)])
                object[path: ["status", "certificate"]] = .string(Data(pem.utf8).base64EncodedString())
            } catch {
                let message = (error as? VirtError)?.message ?? "\(error)"
                logger.warning("refusing certificate request \(key.name): \(message)")
                conditions.append(["type": "Failed", "status": "True", "reason": "SignerValidationFailure", "message": .string(message),
                                   "lastUpdateTime": .string(now), "lastTransitionTime": .string(now)])
            }
            object[path: ["status", "conditions"]] = .array(conditions)
            do {
                _ = try await handler.store.update(key, object: object, expectedRevision: stored.revision)
                return
            } catch {
                if (error as? VirtError)?.code == .conflict { continue }
                logger.warning("cannot write certificate request \(key.name): \(error)")
                return
            }
        }
    }

    /// The PEM certificate for the request, after checking that it asks for what a node agent may have.
    func issue(_ object: JSONValue) throws -> String {
        guard let encoded = object[path: ["spec", "request"]]?.stringValue, let data = Data(base64Encoded: encoded),
              let text = String(data: data, encoding: .utf8)
        else {
            throw VirtError(.invalid, "spec.request: must be a base64-encoded PEM certificate request")
        }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(pemEncoded: text)
        } catch {
            throw VirtError(.invalid, "spec.request: not a PEM certificate request: \(error)")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw VirtError(.invalid, "spec.request: its signature does not verify")
        }
        let commonName = request.subject.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.flatMap { String($0.value) } ?? ""
        guard commonName.hasPrefix("system:node:"), commonName.count > "system:node:".count else {
            throw VirtError(.invalid, "spec.request: the subject's common name must be system:node:NODE, not \(commonName)")
        }
        let node = String(commonName.dropFirst("system:node:".count))
        var names: [GeneralName] = [.dnsName(node)]
        let requested: [GeneralName] = try request.attributes.extensionRequest?.extensions.subjectAlternativeNames.map { Array($0) } ?? []
        for name in requested {
            switch name {
            case .dnsName(let dns) where dns == node: continue
            case .dnsName(let dns) where dns == "localhost": names.append(name)
            case .ipAddress: names.append(name)
            default: throw VirtError(.invalid, "spec.request: a node agent's certificate names only its node and addresses, not \(name)")
            }
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: request.publicKey,
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(Self.lifetime),
            issuer: caCertificate.subject, subject: request.subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey))
        return try certificate.serializeAsPEM().pemString
    }
}
