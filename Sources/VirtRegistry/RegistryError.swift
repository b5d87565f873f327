/// Why an image could not be had from its registry, in words a user can act on. Messages carry the
/// registry's own error (`MANIFEST_UNKNOWN: manifest unknown`) when it sent one.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reference is not `[registry/]repository[:tag][@digest]`.
    case invalidReference(reference: String, detail: String)
    /// No HTTP answer from the registry (connection refused, name not resolved, TLS failure).
    case unreachable(registry: String, detail: String)
    /// The registry wants credentials (401/403); `withCredentials` says whether some were sent.
    case denied(reference: String, status: Int, message: String, withCredentials: Bool)
    /// The repository, tag, digest or blob is not there (404).
    case notFound(reference: String, message: String)
    /// Any other answer that is not a success.
    case failed(reference: String, status: Int, message: String)
    /// An answer that is not what the distribution API promises (a manifest that does not decode, a bad token).
    case invalidResponse(reference: String, detail: String)
    /// Content whose digest is not the one asked for.
    case digestMismatch(reference: String, expected: String, actual: String)
    /// An image index without a manifest for this node's platform.
    case noPlatform(reference: String, wanted: String, available: [String])
    /// A manifest of a kind this client does not read (schema 1, an artifact).
    case unsupportedManifest(reference: String, mediaType: String)
    /// The pull secret does not hold a Docker config.
    case invalidCredentials(secret: String, detail: String)

    public var description: String {
        switch self {
        case .invalidReference(let reference, let detail):
            return "\(reference) is not an image reference: \(detail) (use registry/repository:tag or registry/repository@sha256:DIGEST)"
        case .unreachable(let registry, let detail):
            return "cannot reach the registry \(registry): \(detail)"
        case .denied(let reference, let status, let message, let withCredentials):
            let hint = withCredentials
                ? "the registry refused the credentials of the imagePullSecret; fix the username or password in the Secret"
                : "the registry needs credentials; set containerDisk.imagePullSecret to a kubernetes.io/dockerconfigjson Secret for it"
            return "pulling \(reference): \(status) \(message); \(hint)"
        case .notFound(let reference, let message):
            return "pulling \(reference): not found: \(message)"
        case .failed(let reference, let status, let message):
            return "pulling \(reference): the registry answered \(status) \(message)"
        case .invalidResponse(let reference, let detail):
            return "pulling \(reference): the registry's answer is not usable: \(detail)"
        case .digestMismatch(let reference, let expected, let actual):
            return "pulling \(reference): the content of \(expected) has digest \(actual); the registry's copy is corrupt or changed in transit"
        case .noPlatform(let reference, let wanted, let available):
            return "\(reference) has no image for \(wanted)" + (available.isEmpty ? "" : " (it has: \(available.joined(separator: ", ")))")
        case .unsupportedManifest(let reference, let mediaType):
            return "\(reference) is a \(mediaType) manifest; only OCI and Docker schema 2 images can be pulled (push it again with a current tool)"
        case .invalidCredentials(let secret, let detail):
            return "imagePullSecret \(secret) holds no usable Docker config: \(detail) (make it with kubectl create secret docker-registry)"
        }
    }
}
