import VirtAPI
import VirtReconcile

/// CDI's `source.registry`: the disk of a container image (`docker://registry/repository:tag` or
/// `…@sha256:…`), pulled by the node agent that holds the volume.
extension DataVolumeController {
    /// The claim's import annotations for a registry source, as CDI writes them: `storage.import.source:
    /// registry`, `.endpoint` the URL, `.secretName` (a Secret with `accessKeyId` and `secretKey`),
    /// `.certConfigMap`, and `.registryImportMethod` the `pullMethod`; `platform.architecture` goes in
    /// `swiftvirt.io/import-registry-architecture` (the image of a multi-architecture index to import).
    static func registryAnnotations(_ registry: DataVolumeSourceRegistry) -> [String: JSONValue] {
        var annotations: [String: JSONValue] = [
            CDINames.Annotation.source: .string(CDINames.Source.registry),
            CDINames.Annotation.endpoint: .string(registry.url ?? ""),
        ]
        if let secret = registry.secretRef, !secret.isEmpty { annotations[CDINames.Annotation.secretName] = .string(secret) }
        if let configMap = registry.certConfigMap, !configMap.isEmpty { annotations[CDINames.Annotation.certConfigMap] = .string(configMap) }
        if let method = registry.pullMethod, !method.isEmpty { annotations[CDINames.Annotation.registryImportMethod] = .string(method) }
        if let architecture = registry.platform?.architecture, !architecture.isEmpty {
            annotations[CDINames.Annotation.registryArchitecture] = .string(architecture)
        }
        return annotations
    }

    /// Why a registry source is not imported here, or nil: only `docker://` URLs are; `oci-archive://` and
    /// `imageStream` (OpenShift's) are refused with their field rather than run as something else.
    static func unsupportedRegistry(_ registry: DataVolumeSourceRegistry) -> String? {
        if registry.imageStream != nil { return "source.registry.imageStream (an OpenShift ImageStream) is not imported; use source.registry.url docker://…" }
        guard let url = registry.url, url.hasPrefix("docker://") else {
            return "source.registry.url \(registry.url ?? "") is not imported: only docker://registry/repository:tag (or @sha256:…) is; oci-archive:// is not yet"
        }
        return nil
    }
}
