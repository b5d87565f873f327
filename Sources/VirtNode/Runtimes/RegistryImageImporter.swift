import Foundation
import VirtDisk
import VirtRegistry

/// The importer of CDI's `source.registry`: pulls the image's disk onto this node (``RegistryDiskPuller``,
/// with the `secretRef`'s `accessKeyId` and `secretKey`, the `certConfigMap`'s CAs and `platform.architecture`), then has the next
/// importer (``ImporterProcess``) convert that file into the volume as it would a download (`--file`).
/// Every other source goes to the next importer as it is.
///
/// As CDI's importer pod, whose failed pull restarts the pod: a registry that cannot be reached, a tag or
/// repository it does not have (404) and credentials it refuses (401/403) are retried, each with the
/// registry's own words in the DataVolume's `Running` condition; a URL that is not an image reference and an
/// image without a usable disk fail the import.
public struct RegistryImageImporter: VolumeImporter {
    /// The source this importer handles.
    public static let source = "registry"

    public var puller: any RegistryDiskPuller
    public var next: any VolumeImporter

    public init(puller: any RegistryDiskPuller, next: any VolumeImporter) {
        self.puller = puller
        self.next = next
    }

    public func run(_ request: VolumeImportRequest, progress: @escaping @Sendable (String) async -> Void) async -> VolumeImportOutcome {
        guard request.source == Self.source else { return await next.run(request, progress: progress) }
        let url = request.url ?? ""
        let reference: ImageReference
        switch Self.reference(url) {
        case .failure(let problem): return .failed(reason: "InvalidSource", message: problem.message, retryable: false)
        case .success(let parsed): reference = parsed
        }
        let credentials = request.username.map { RegistryCredentials(username: $0, password: request.password ?? "") }
        let disk: String
        do {
            disk = try await puller.pullDisk(reference, architecture: request.architecture, credentials: credentials, caBundlePEM: request.caBundlePEM)
        } catch {
            return Self.outcome(of: error, url: url)
        }
        var forwarded = request
        forwarded.file = disk
        forwarded.username = nil
        forwarded.password = nil
        forwarded.caBundlePEM = nil
        forwarded.headers = []
        forwarded.insecureSkipVerify = false
        return await next.run(forwarded, progress: progress)
    }

    /// Why a registry source's URL cannot be pulled.
    struct Problem: Error {
        var message: String
    }

    /// The image reference of `docker://registry/repository[:tag][@digest]`.
    static func reference(_ url: String) -> Result<ImageReference, Problem> {
        let scheme = "docker://"
        guard url.hasPrefix(scheme) else {
            let hint = url.hasPrefix("oci-archive://") ? "oci-archive:// is not imported yet; push the image to a registry and use docker://"
                : "it must start with docker://, as in docker://registry.example.org/repository:tag"
            return .failure(Problem(message: "spec.source.registry.url \"\(url)\": \(hint)"))
        }
        let rest = String(url.dropFirst(scheme.count))
        guard !rest.isEmpty, !rest.hasPrefix("/"), !rest.hasPrefix(".") else {
            return .failure(Problem(message: "spec.source.registry.url \"\(url)\" names no image; use docker://registry.example.org/repository:tag"))
        }
        do {
            return .success(try ImageReference.parse(rest))
        } catch {
            return .failure(Problem(message: "spec.source.registry.url \"\(url)\": \(error)"))
        }
    }

    /// The outcome of a pull that failed: the registry's words, retried as CDI retries its importer pod.
    static func outcome(of error: any Error, url: String) -> VolumeImportOutcome {
        guard let error = error as? ContainerDiskError else {
            if let error = error as? CertificateBundleError {
                return .failed(reason: "InvalidSource", message: "spec.source.registry.certConfigMap: \(error)", retryable: false)
            }
            return .failed(reason: "ImagePullFailed", message: "pulling \(url): \(error)", retryable: true)
        }
        switch error {
        case .pullFailed(_, let registryError):
            switch registryError {
            case .invalidReference:
                return .failed(reason: "InvalidSource", message: "spec.source.registry.url: \(registryError)", retryable: false)
            case .denied(let reference, let status, let message, let withCredentials):
                let hint = withCredentials
                    ? "the registry refused the credentials of spec.source.registry.secretRef; fix accessKeyId or secretKey in the Secret"
                    : "the registry needs credentials; set spec.source.registry.secretRef to a Secret with accessKeyId and secretKey"
                return .failed(reason: "ImagePullFailed", message: "pulling \(reference): \(status) \(message); \(hint)", retryable: true)
            case .unreachable(_, let detail) where ["TLS", "CERTIFICATE", "certificate", "handshake"].contains(where: detail.contains):
                let hint = "; if the registry's certificate is from a CA of your own, put its PEM in a ConfigMap and name it in spec.source.registry.certConfigMap"
                return .failed(reason: "ImagePullFailed", message: "\(registryError)\(hint)", retryable: true)
            default:
                return .failed(reason: "ImagePullFailed", message: "\(registryError)", retryable: true)
            }
        case .noDisk, .unusableDisk:
            return .failed(reason: "UnsupportedImage", message: "\(error)".replacingOccurrences(of: "containerDisk image", with: "registry image"),
                           retryable: false)
        default:
            return .failed(reason: "ImagePullFailed", message: "\(error)", retryable: true)
        }
    }
}
