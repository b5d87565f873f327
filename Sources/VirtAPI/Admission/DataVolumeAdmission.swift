import VirtError

/// Validation of cdi.kubevirt.io/v1beta1 `DataVolume`, rule for rule as CDI's own admission.
///
/// A DataVolume names the volume to create (`spec.pvc`, taken as is, or `spec.storage`, which CDI completes
/// from the StorageProfile) and where its data comes from: exactly one of `spec.source` (one source type),
/// `spec.sourceRef` (a DataSource), or a `dataSource` / `dataSourceRef` in the volume (external population).
/// The spec is fixed once created; only the checkpoints of a multi-stage (VDDK, imageio) import move on.
enum DataVolumeAdmission {
    /// The URL schemes an http, s3, gcs, imageio or vddk source may use.
    static let sourceURLSchemes = ["http", "https", "gs"]
    /// The URL schemes of a registry source.
    static let registryURLSchemes = ["docker", "oci-archive"]
    static let pullMethods = ["pod", "node"]
    static let contentTypes = ["kubevirt", "archive"]
    static let checksumLengths = ["md5": 32, "sha1": 40, "sha256": 64, "sha512": 128]
    /// The smallest volume CDI creates (KubeVirt's smallest disk).
    static let minimumSize: Int64 = 1 << 20

    static func validate(_ dataVolume: DataVolume, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        if let old {
            if old["spec"] == object["spec"] { return [] }
            if onlyCheckpointsChanged(dataVolume, object: object, old: old) { return [] }
            return [FieldErrors.forbidden(
                "spec", "the spec of a DataVolume cannot change once it is created; delete it and create a new one")]
        }
        return validateSpec(dataVolume.spec, prefix: "spec")
    }

    /// A multi-stage import (VDDK or imageio with checkpoints) may add checkpoints and set `finalCheckpoint`.
    static func onlyCheckpointsChanged(_ dataVolume: DataVolume, object: JSONValue, old: JSONValue) -> Bool {
        let spec = dataVolume.spec
        guard !(spec.checkpoints ?? []).isEmpty, spec.source?.vddk != nil || spec.source?.imageio != nil else { return false }
        func withoutCheckpoints(_ value: JSONValue?) -> JSONValue? {
            guard case .object(var fields)? = value else { return value }
            fields["checkpoints"] = nil
            fields["finalCheckpoint"] = nil
            return .object(fields)
        }
        return withoutCheckpoints(object["spec"]) == withoutCheckpoints(old["spec"])
    }

    /// The rules of a DataVolume spec at `prefix` (`spec`).
    static func validateSpec(_ spec: DataVolumeSpec, prefix: String) -> [VirtError.Cause] {
        let volume: PersistentVolumeClaimSpec
        let volumeField: String
        switch (spec.pvc, spec.storage) {
        case (nil, nil):
            return [FieldErrors.required(
                "\(prefix).storage", "set \(prefix).storage (or \(prefix).pvc) to describe the volume to create")]
        case (.some, .some):
            return [FieldErrors.invalid(
                "\(prefix).pvc", "\(prefix).pvc and \(prefix).storage are mutually exclusive; set only one")]
        case (.some(let pvc), nil):
            volume = pvc
            volumeField = "\(prefix).pvc"
        case (nil, .some(let storage)):
            volume = storage
            volumeField = "\(prefix).storage"
        }
        let isStorage = spec.storage != nil

        var causes: [VirtError.Cause] = []
        causes += validateSize(volume, field: volumeField, sizeMayComeFromSource: isStorage && isClone(spec))
        if let name = volume.storageClassName, name.count > 253 {
            causes.append(FieldErrors.invalid("\(volumeField).storageClassName", name, "must be no more than 253 characters"))
        }
        causes += validateAccessModes(volume.accessModes ?? [], field: "\(volumeField).accessModes", exactlyOne: !isStorage)

        // The volume filled by someone else (a volume populator or a snapshot restore).
        if volume.dataSource != nil || volume.dataSourceRef != nil {
            causes += validateExternalPopulation(spec, volume, field: volumeField, prefix: prefix)
            return causes
        }
        switch (spec.source, spec.sourceRef) {
        case (nil, nil):
            causes.append(FieldErrors.required(
                "\(prefix).source",
                "set \(prefix).source (http, registry, pvc, upload, blank, …), \(prefix).sourceRef, "
                    + "or \(volumeField).dataSourceRef for a volume another controller fills"))
        case (.some, .some):
            causes.append(FieldErrors.invalid(
                "\(prefix).sourceRef", "\(prefix).source and \(prefix).sourceRef are mutually exclusive; set only one"))
        case (nil, .some(let ref)):
            causes += validateSourceRef(ref, field: "\(prefix).sourceRef")
        case (.some(let source), nil):
            causes += validateSource(source, contentType: spec.contentType, prefix: prefix)
        }
        return causes
    }

    /// Whether the size may be left out: CDI takes it from the PVC, snapshot or DataSource copied.
    static func isClone(_ spec: DataVolumeSpec) -> Bool {
        spec.sourceRef != nil || spec.source?.pvc != nil || spec.source?.snapshot != nil
    }

    static func validateSize(_ volume: PersistentVolumeClaimSpec, field: String, sizeMayComeFromSource: Bool) -> [VirtError.Cause] {
        let sizeField = "\(field).resources.requests.storage"
        guard let size = volume.resources?.requests?["storage"] else {
            if sizeMayComeFromSource { return [] }
            return [FieldErrors.required(sizeField, "the size of the volume, for example 10Gi")]
        }
        if size.bytes <= 0 {
            return [FieldErrors.invalid(sizeField, size.text, "must be greater than zero")]
        }
        if size.bytes < minimumSize {
            return [FieldErrors.invalid(sizeField, size.text, "must be at least 1Mi")]
        }
        return []
    }

    /// `spec.pvc` needs exactly one access mode; `spec.storage` any number, none meaning "from the StorageProfile".
    static func validateAccessModes(_ modes: [String], field: String, exactlyOne: Bool) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        if exactlyOne, modes.isEmpty {
            causes.append(FieldErrors.required(
                field, "at least 1 access mode is required (or use spec.storage, which takes it from the StorageProfile)"))
        } else if exactlyOne, modes.count > 1 {
            causes.append(FieldErrors.invalid(
                field, "spec.pvc takes exactly one access mode; keep one, or use spec.storage for more"))
        }
        for (i, mode) in modes.enumerated() where !StorageAdmission.accessModes.contains(mode) {
            causes.append(FieldErrors.notSupported("\(field)[\(i)]", mode, StorageAdmission.accessModes))
        }
        return causes
    }

    static func validateExternalPopulation(
        _ spec: DataVolumeSpec, _ volume: PersistentVolumeClaimSpec, field: String, prefix: String
    ) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        if spec.source != nil || spec.sourceRef != nil {
            causes.append(FieldErrors.invalid(
                "\(prefix).source",
                "a volume filled through \(field).dataSource or dataSourceRef takes no \(prefix).source or \(prefix).sourceRef; remove one"))
        }
        if let dataSource = volume.dataSource, let dataSourceRef = volume.dataSourceRef {
            var local = dataSourceRef
            local["namespace"] = nil
            if local != dataSource {
                causes.append(FieldErrors.invalid(
                    "\(field).dataSourceRef", "must match \(field).dataSource when both are set; set only dataSourceRef"))
            }
        }
        if let dataSource = volume.dataSource {
            causes += validateObjectReference(dataSource, field: "\(field).dataSource")
        }
        if let dataSourceRef = volume.dataSourceRef {
            if let namespace = dataSourceRef["namespace"]?.stringValue, !namespace.isEmpty {
                causes.append(FieldErrors.invalid(
                    "\(field).dataSourceRef.namespace", namespace, "a reference to another namespace is not supported; remove namespace"))
            }
            causes += validateObjectReference(dataSourceRef, field: "\(field).dataSourceRef")
        }
        return causes
    }

    /// A `TypedLocalObjectReference` / `TypedObjectReference`: name and kind, and an API group unless a PVC.
    static func validateObjectReference(_ reference: JSONValue, field: String) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let kind = reference["kind"]?.stringValue ?? ""
        if reference["name"]?.stringValue?.isEmpty ?? true {
            causes.append(FieldErrors.required("\(field).name"))
        }
        if kind.isEmpty {
            causes.append(FieldErrors.required("\(field).kind", "the kind of the object that fills the volume"))
        }
        if reference["apiGroup"]?.stringValue?.isEmpty ?? true, kind != "PersistentVolumeClaim" {
            causes.append(FieldErrors.required(
                "\(field).apiGroup", "the API group of \(kind.isEmpty ? "the kind" : FieldErrors.quoted(kind)) (only a PersistentVolumeClaim goes without)"))
        }
        return causes
    }

    static func validateSourceRef(_ ref: DataVolumeSourceRef, field: String) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        switch ref.kind ?? "" {
        case "":
            causes.append(FieldErrors.required("\(field).kind", "DataSource"))
        case "DataSource":
            break
        case let kind:
            causes.append(FieldErrors.notSupported("\(field).kind", kind, ["DataSource"]))
        }
        if ref.name?.isEmpty ?? true {
            causes.append(FieldErrors.required("\(field).name", "the name of the DataSource"))
        }
        return causes
    }

    static func validateSource(_ source: DataVolumeSource, contentType: String?, prefix: String) -> [VirtError.Cause] {
        let field = "\(prefix).source"
        let types = source.sourceTypes
        if types.isEmpty {
            return [FieldErrors.required(
                field, "set exactly one source type: http, s3, gcs, registry, pvc, upload, blank, imageio, vddk or snapshot")]
        }
        if types.count > 1 {
            return [FieldErrors.invalid(field, "must have exactly one source type (found \(types.joined(separator: ", ")))")]
        }
        let contentType = contentType ?? ""
        if !contentType.isEmpty, !contentTypes.contains(contentType) {
            return [FieldErrors.notSupported("\(prefix).contentType", contentType, contentTypes)]
        }

        var causes: [VirtError.Cause] = []
        if let http = source.http {
            causes += validateURL(http.url, field: "\(field).http.url")
            if let checksum = http.checksum, !checksum.isEmpty, let problem = checksumProblem(checksum) {
                causes.append(FieldErrors.invalid("\(field).http.checksum", checksum, problem))
            }
        }
        if let s3 = source.s3 {
            causes += validateURL(s3.url, field: "\(field).s3.url")
        }
        if let gcs = source.gcs {
            causes += validateURL(gcs.url, field: "\(field).gcs.url")
        }
        if source.blank != nil, contentType == "archive" {
            causes.append(FieldErrors.invalid(
                "\(prefix).contentType", contentType, "a blank image is a disk; remove contentType or set it to kubevirt"))
        }
        if let registry = source.registry {
            causes += validateRegistry(registry, contentType: contentType, field: "\(field).registry", prefix: prefix)
        }
        if let imageio = source.imageio {
            let path = "\(field).imageio"
            if imageio.secretRef?.isEmpty ?? true {
                causes.append(FieldErrors.required("\(path).secretRef", "the Secret with the engine's credentials"))
            }
            if imageio.diskId?.isEmpty ?? true {
                causes.append(FieldErrors.required("\(path).diskId", "the ID of the disk to import"))
            }
            if imageio.certConfigMap?.isEmpty ?? true, imageio.insecureSkipVerify != true {
                causes.append(FieldErrors.required(
                    "\(path).certConfigMap", "the ConfigMap with the engine's CA certificate, or insecureSkipVerify: true"))
            }
            causes += validateURL(imageio.url, field: "\(path).url")
        }
        if let vddk = source.vddk {
            let path = "\(field).vddk"
            for (value, name) in [(vddk.secretRef, "secretRef"), (vddk.uuid, "uuid"), (vddk.backingFile, "backingFile"), (vddk.thumbprint, "thumbprint")]
            where value?.isEmpty ?? true {
                causes.append(FieldErrors.required("\(path).\(name)"))
            }
            causes += validateURL(vddk.url ?? "", field: "\(path).url")
        }
        for (reference, name) in [(source.pvc, "pvc"), (source.snapshot, "snapshot")] {
            guard let reference else { continue }
            if reference.namespace.isEmpty { causes.append(FieldErrors.required("\(field).\(name).namespace")) }
            if reference.name.isEmpty { causes.append(FieldErrors.required("\(field).\(name).name")) }
        }
        return causes
    }

    static func validateRegistry(
        _ registry: DataVolumeSourceRegistry, contentType: String, field: String, prefix: String
    ) -> [VirtError.Cause] {
        if !contentType.isEmpty, contentType != "kubevirt" {
            return [FieldErrors.invalid(
                "\(prefix).contentType", contentType, "a registry source holds a disk image; remove contentType or set it to kubevirt")]
        }
        switch (registry.url, registry.imageStream) {
        case (nil, nil), (.some, .some):
            return [FieldErrors.invalid(field, "set exactly one of url (docker://… or oci-archive://…) and imageStream")]
        default:
            break
        }
        var causes: [VirtError.Cause] = []
        if let url = registry.url {
            let scheme = self.scheme(of: url)
            if scheme == nil || !registryURLSchemes.contains(scheme ?? "") {
                causes.append(FieldErrors.invalid(
                    "\(field).url", url, "must start with docker:// or oci-archive:// (for example docker://quay.io/containerdisks/fedora:40)"))
            }
        }
        if let method = registry.pullMethod, !method.isEmpty, !pullMethods.contains(method) {
            causes.append(FieldErrors.notSupported("\(field).pullMethod", method, pullMethods))
        }
        if let stream = registry.imageStream {
            if stream.isEmpty {
                causes.append(FieldErrors.required("\(field).imageStream", "the name of the ImageStream"))
            } else if registry.pullMethod != "node" {
                causes.append(FieldErrors.invalid(
                    "\(field).pullMethod", registry.pullMethod ?? "", "an imageStream is imported only with pullMethod: node"))
            }
        }
        return causes
    }

    /// An http, s3, gcs, imageio or vddk URL: absolute, with scheme http, https or gs.
    static func validateURL(_ url: String, field: String) -> [VirtError.Cause] {
        if url.isEmpty {
            return [FieldErrors.required(field, "the URL of the disk image to import")]
        }
        guard let scheme = scheme(of: url), !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return [FieldErrors.invalid(field, url, "must be an absolute URL, such as https://example.org/disk.qcow2")]
        }
        if !sourceURLSchemes.contains(scheme) {
            return [FieldErrors.invalid(field, url, "the scheme must be http, https or gs")]
        }
        return []
    }

    /// The lower-cased scheme of `url` (`https` of `https://…`), nil when it has none.
    static func scheme(of url: String) -> String? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon]
        guard let first = scheme.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return nil }
        let allowed = scheme.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }
        return allowed ? scheme.lowercased() : nil
    }

    /// Why `checksum` is not `algorithm:hex` (md5, sha1, sha256 or sha512 with a digest of its length), nil when it is.
    static func checksumProblem(_ checksum: String) -> String? {
        guard let colon = checksum.firstIndex(of: ":") else {
            return "must be algorithm:digest, such as sha256:<64 hex digits>"
        }
        let algorithm = checksum[..<colon].trimmingSpaces().lowercased()
        let digest = checksum[checksum.index(after: colon)...].trimmingSpaces()
        guard let length = checksumLengths[algorithm] else {
            return "the algorithm must be md5, sha1, sha256 or sha512"
        }
        if digest.isEmpty { return "the digest after \(algorithm): is empty" }
        if digest.count != length { return "a \(algorithm) digest has \(length) hex digits, not \(digest.count)" }
        if !digest.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit }) { return "the digest must be hexadecimal" }
        return nil
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
