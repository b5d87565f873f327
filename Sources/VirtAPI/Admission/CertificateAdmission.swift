import Foundation
import VirtError

/// Validation of certificates.k8s.io/v1 `CertificateSigningRequest`, by Kubernetes' rules
/// (`pkg/apis/certificates/validation`): a PEM certificate request, a signer named `domain/path`, key
/// usages Kubernetes knows, at least ten minutes asked for, and conditions that do not contradict each
/// other. The object is stored as sent; `Request` is what admission reads of it (and so the fields it
/// reports as unknown).
enum CertificateAdmission {
    /// The fields of a CertificateSigningRequest.
    struct Request: Decodable, Sendable {
        var apiVersion: String?
        var kind: String?
        var metadata: ObjectMeta?
        var spec: Spec?
        var status: Status?
    }

    struct Spec: Decodable, Sendable {
        /// A PEM `CERTIFICATE REQUEST`, base64-encoded.
        var request: String?
        var signerName: String?
        var expirationSeconds: Int32?
        var usages: [String]?
        /// Who asked: set by Kubernetes from the requesting user.
        var username: String?
        var uid: String?
        var groups: [String]?
        var extra: [String: [String]]?
    }

    struct Status: Decodable, Sendable {
        var conditions: [RequestCondition]?
        /// The issued PEM certificate chain, base64-encoded.
        var certificate: String?
    }

    struct RequestCondition: Decodable, Sendable {
        var type: String?
        var status: String?
        var reason: String?
        var message: String?
        var lastUpdateTime: String?
        var lastTransitionTime: String?
    }

    /// Kubernetes' `KeyUsage` values.
    static let usages = [
        "signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment",
        "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing",
        "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
        "microsoft sgc", "netscape sgc",
    ].sorted()

    static func validate(_ csr: Request, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        if let old, old["spec"] != object["spec"] {
            causes.append(FieldErrors.forbidden("spec", "field is immutable; create a new CertificateSigningRequest instead"))
        }
        let spec = csr.spec
        causes += validateRequest(spec?.request)
        causes += validateSignerName(spec?.signerName ?? "")
        let usages = spec?.usages ?? []
        if usages.isEmpty {
            causes.append(FieldErrors.required("spec.usages", "usages must be provided"))
        }
        var seen: Set<String> = []
        for (i, usage) in usages.enumerated() {
            if !Self.usages.contains(usage) {
                causes.append(FieldErrors.notSupported("spec.usages[\(i)]", usage, Self.usages))
            } else if !seen.insert(usage).inserted {
                causes.append(FieldErrors.duplicate("spec.usages[\(i)]", usage))
            }
        }
        if let seconds = spec?.expirationSeconds, seconds < 600 {
            causes.append(FieldErrors.invalid(
                "spec.expirationSeconds", number: Int64(seconds), "may not specify a duration less than 600 seconds (10 minutes)"))
        }
        causes += validateConditions(csr.status?.conditions ?? [])
        if let certificate = csr.status?.certificate, !FieldErrors.isBase64(certificate) {
            causes.append(FieldErrors.invalid("status.certificate", "must be base64-encoded PEM certificates"))
        }
        return causes
    }

    /// `spec.request`: base64 of a PEM block of type `CERTIFICATE REQUEST` holding DER.
    static func validateRequest(_ request: String?) -> [VirtError.Cause] {
        let field = "spec.request"
        guard let request, !request.isEmpty else {
            return [FieldErrors.required(field, "a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----), base64-encoded")]
        }
        guard FieldErrors.isBase64(request), let pem = Data(base64Encoded: request.filter { $0 != "\n" && $0 != "\r" }) else {
            return [FieldErrors.invalid(field, "must be base64-encoded (the PEM text of the request, base64-encoded once more)")]
        }
        guard let der = pemBlock(String(decoding: pem, as: UTF8.self), type: "CERTIFICATE REQUEST") else {
            return [FieldErrors.invalid(field, "PEM block type must be CERTIFICATE REQUEST")]
        }
        // A DER certificate request is a SEQUENCE.
        guard der.first == 0x30 else {
            return [FieldErrors.invalid(field, "x509: malformed certificate request")]
        }
        return []
    }

    /// The bytes of the first PEM block in `text` when its type is `type`, as Go's `pem.Decode` finds it.
    static func pemBlock(_ text: String, type: String) -> Data? {
        guard let begin = text.range(of: "-----BEGIN ") else { return nil }
        guard let typeEnd = text.range(of: "-----", range: begin.upperBound..<text.endIndex) else { return nil }
        guard text[begin.upperBound..<typeEnd.lowerBound] == type,
              let end = text.range(of: "-----END \(type)-----", range: typeEnd.upperBound..<text.endIndex)
        else { return nil }
        let body = text[typeEnd.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(body))
    }

    /// `spec.signerName`: `domain/path`, the domain of two or more DNS labels (`kubernetes.io/kubelet-serving`).
    static func validateSignerName(_ name: String) -> [VirtError.Cause] {
        let field = "spec.signerName"
        if name.isEmpty { return [FieldErrors.required(field, "the signer to ask, for example \"kubernetes.io/kube-apiserver-client\"")] }
        if name == "kubernetes.io/legacy-unknown" {
            return [FieldErrors.invalid(field, name, "the legacy signerName is not allowed via this API version")]
        }
        let segments = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count == 2 else {
            return [FieldErrors.invalid(field, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")]
        }
        var causes: [VirtError.Cause] = []
        let domain = segments[0], path = segments[1]
        if domain.utf8.count > NameValidation.dns1123SubdomainMaxLength {
            causes.append(FieldErrors.invalid(field, domain, NameValidation.maxLengthMessage(NameValidation.dns1123SubdomainMaxLength)))
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for label in labels {
            if let message = NameValidation.dns1123Label(label) {
                causes.append(FieldErrors.invalid(field, domain, "validating label \(FieldErrors.quoted(label)): \(message)"))
                break
            }
        }
        if labels.count < 2 {
            causes.append(FieldErrors.invalid(field, domain, "should be a domain with at least two segments separated by dots"))
        }
        if path.utf8.count > NameValidation.dns1123SubdomainMaxLength {
            causes.append(FieldErrors.invalid(field, path, NameValidation.maxLengthMessage(NameValidation.dns1123SubdomainMaxLength)))
        }
        if path.isEmpty || path == "." || path == ".." || path.contains("%") {
            causes.append(FieldErrors.invalid(field, path, "must be a path segment: not empty, \".\" or \"..\", and without \"%\""))
        }
        return causes
    }

    /// `status.conditions`: each with a type and a status (`True` for Approved and Denied), no type twice,
    /// and not both Approved and Denied.
    static func validateConditions(_ conditions: [RequestCondition]) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        var seen: Set<String> = []
        var approved = false, denied = false
        for (i, condition) in conditions.enumerated() {
            let prefix = "status.conditions[\(i)]"
            let type = condition.type ?? ""
            if type.isEmpty { causes.append(FieldErrors.required("\(prefix).type")) }
            let allowed = type == "Approved" || type == "Denied" ? ["True"] : ["False", "True", "Unknown"]
            switch condition.status ?? "" {
            case "": causes.append(FieldErrors.required("\(prefix).status"))
            case let status where !allowed.contains(status): causes.append(FieldErrors.notSupported("\(prefix).status", status, allowed))
            default: break
            }
            if type == "Approved" {
                approved = true
                if denied { causes.append(FieldErrors.invalid("\(prefix).type", type, "Approved and Denied conditions are mutually exclusive")) }
            } else if type == "Denied" {
                denied = true
                if approved { causes.append(FieldErrors.invalid("\(prefix).type", type, "Approved and Denied conditions are mutually exclusive")) }
            }
            if !seen.insert(type).inserted { causes.append(FieldErrors.duplicate("\(prefix).type", type)) }
        }
        return causes
    }
}
