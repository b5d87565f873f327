import VirtAPI
import VirtReconcile

/// CDI's `source.registry`: the disk of a container image (`docker://registry/repository:tag` or
/// `…@sha256:…`), pulled by the node agent that holds the volume.
extension DataVolumeController {
    /// The claim's import annotations for a registry source, as CDI writes them: `storage.import.source:
    /// registry`, `.endpoint` the URL, `.secretName` (a Secret with `accessKeyId` and `secretKey`),
    /// `.certConfigMap`, and `.registryImportMethod` the `pullMethod`.
    static func registryAnnotations(_ registry: DataVolumeSourceRegistry) -> [String: JSONValue] {
        var annotations: [String: JSONValue] = [
            CDINames.Annotation.source: .string(CDINames.Source.registry),
            CDINames.Annotation.endpoint: .string(registry.url ?? ""),
        ]
        if let secret = registry.secretRef, !secret.isEmpty { annotations[CDINames.Annotation.secretName] = .string(secret) }
        if let configMap = registry.certConfigMap, !configMap.isEmpty { annotations[CDINames.Annotation.certConfigMap] = .string(configMap) }
        if let method = registry.pullMethod, !method.isEmpty { annotations[CDINames.Annotation.registryImportMethod] = .string(method) }
        return annotations
    }

    /// Why a registry source is not imported here, or nil: only `docker://` URLs are; `oci-archive://`,
    /// `imageStream` (OpenShift's) and `platform` are refused with their field rather than run as something else.
    static func unsupportedRegistry(_ registry: DataVolumeSourceRegistry) -> String? {
        if registry.imageStream != nil { return "source.registry.imageStream (an OpenShift ImageStream) is not imported; use source.registry.url docker://…" }
        if registry.platform != nil { return "source.registry.platform is not imported yet; the node's own architecture is pulled: remove platform" }
        guard let url = registry.url, url.hasPrefix("docker://") else {
            return "source.registry.url \(registry.url ?? "") is not imported: only docker://registry/repository:tag (or @sha256:…) is; oci-archive:// is not yet"
        }
        return nil
    }
}
