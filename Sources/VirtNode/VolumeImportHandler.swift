import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// The node's part of CDI: fills a bound PersistentVolumeClaim whose `cdi.kubevirt.io/storage.import.source`
/// is `http`, `registry` or `blank` (the DataVolume controller writes it) when this node holds its volume (a local
/// volume's node; for a shared volume, the first agent to take the import), and reports the import on the
/// claim in CDI's importer-pod annotations, which the DataVolume controller turns into the DataVolume's status:
///
/// | annotation | written |
/// | --- | --- |
/// | `cdi.kubevirt.io/storage.pod.phase` | `Running` when the import starts, `Succeeded` once the marker is written, `Failed` when retrying cannot help |
/// | `cdi.kubevirt.io/storage.populator.progress` | `NN.NN%` as the importer reports it |
/// | `cdi.kubevirt.io/storage.pod.restarts` | each retry (the importer said a retry may help: exit 75), after a back-off of 2ⁿ s (at most 60 s) |
/// | `cdi.kubevirt.io/storage.condition.running{,.reason,.message}` | `true` while importing; `false` with `Completed`, or `Error` and the importer's words |
/// | `swiftvirt.io/import-node` | the node that took the import |
///
/// The target is `disk.img` in the volume's directory (a Filesystem volume, and the file a loop device backs
/// for a Block one) or the volume's file; its marker `disk.img.complete` decides that the volume may be
/// used (``VirtualMachineHandler`` refuses a guest a claim with an import annotation and no marker).
/// Keyed by claim; the runner never runs one claim twice at once, and an import runs inside its reconcile.
public struct VolumeImportHandler: Reconciler {
    /// The annotation naming the node that took a claim's import.
    public static let importNodeAnnotation = "swiftvirt.io/import-node"

    let client: any APIClient
    let claims: ObjectCache
    let volumes: ObjectCache
    let nodeName: String
    let directories: VolumeDirectories
    let importer: any VolumeImporter
    let logger: Logger
    /// When each claim (by UID) may be retried.
    let retries = ImportRetrySchedule()

    public init(client: any APIClient, claims: ObjectCache, volumes: ObjectCache, nodeName: String, directories: VolumeDirectories,
                importer: any VolumeImporter, logger: Logger) {
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.nodeName = nodeName
        self.directories = directories
        self.importer = importer
        self.logger = logger
    }

    /// Whether a claim asks for an import (an event on it should wake this handler): its import source is
    /// `http` or `blank`, or (CDI's legacy form, a PVC annotated by hand) it names an endpoint and no source.
    public static func wantsImport(_ claim: JSONValue) -> Bool {
        let source = importSource(claim)
        return source == CDINames.Source.http || source == CDINames.Source.blank || source == CDINames.Source.registry
    }

    /// The claim's import source: its `storage.import.source`, else `http` when it has an endpoint.
    static func importSource(_ claim: JSONValue) -> String? {
        let annotations = claim[path: ["metadata", "annotations"]]
        if let source = annotations?[CDINames.Annotation.source]?.stringValue { return source }
        return (annotations?[CDINames.Annotation.endpoint]?.stringValue ?? "").isEmpty ? nil : CDINames.Source.http
    }

    /// The marker of a volume's imported image: beside `disk.img` in its directory, or beside its file.
    public static func markerPath(volumePath path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return path + CDINames.markerSuffix
        }
        return "\(path)/\(StorageNames.diskImageName)\(CDINames.markerSuffix)"
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let decision = try VolumeFillClaim.decide(key, claims: claims, volumes: volumes, nodeName: nodeName, retries: retries, wants: Self.wantsImport)
        guard case .fill(let claim) = decision else { return decision.result }
        let (object, uid, volume, annotation) = (claim.object, claim.uid, claim.volume, claim.annotation)

        let path = StorageNames.claims.inNamespace(key.namespace).named(key.name)
        let restarts = Int(annotation(CDINames.Annotation.podRestarts) ?? "") ?? 0
        // Take the import (a conflict: another agent or writer was first; look again).
        do {
            _ = try await client.patch(path, mergePatch: ["metadata": [
                "resourceVersion": .string(object.metadataResourceVersion ?? ""),
                "annotations": [
                    Self.importNodeAnnotation: .string(nodeName), CDINames.Annotation.podPhase: .string(CDINames.PodPhase.running),
                    CDINames.Annotation.runningCondition: "true", CDINames.Annotation.runningConditionReason: "",
                    CDINames.Annotation.runningConditionMessage: "",
                ],
            ]])
        } catch {
            if error.code == .conflict { return .requeue(after: .seconds(1)) }
            throw error
        }

        let outcome: VolumeImportOutcome
        let volumePath = try directories.path(of: volume)
        switch Self.target(volumePath: volumePath) {
        case .failure(let problem):
            outcome = .failed(reason: "InvalidTarget", message: problem.message, retryable: false)
        case .success(let target):
            let claimCapacity = try? object[path: ["status", "capacity"]]?.decoded(as: ResourceList.self)
            let size = claimCapacity?["storage"]?.bytes ?? volume.spec?.capacity?["storage"]?.bytes ?? 0
            do {
                let request = try await importRequest(object, namespace: key.namespace ?? "default", target: target, size: size)
                logger.info("importing into claim \(key)", metadata: ["target": "\(target)", "source": "\(request.source)"])
                let client = self.client
                outcome = await importer.run(request) { progress in
                    _ = try? await client.patch(path, mergePatch: ["metadata": ["annotations": [CDINames.Annotation.progress: .string(progress)]]])
                }
            } catch {
                outcome = .failed(reason: "InvalidSource", message: error.message, retryable: true)
            }
        }
        return try await report(outcome, path: path, uid: uid, restarts: restarts, marker: Self.markerPath(volumePath: volumePath), key: key)
    }

    /// Writes how the import ended (``VolumeFillReport``); a retryable failure comes back after its back-off.
    func report(_ outcome: VolumeImportOutcome, path: ResourcePath, uid: String, restarts: Int, marker: String, key: ObjectKey)
        async throws -> ReconcileResult
    {
        try await VolumeFillReport(noun: "import", completeMessage: "Import Complete", retryPhase: nil)
            .write(outcome, marker: marker, path: path, uid: uid, restarts: restarts, key: key, client: client, retries: retries, logger: logger)
    }

    /// The file an import writes for a volume at `volumePath`.
    static func target(volumePath: String) -> Result<String, TargetProblem> {
        var info = stat()
        if stat(volumePath, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: return .success(volumePath)
            case S_IFDIR: return .success("\(volumePath)/\(StorageNames.diskImageName)")
            default:
                return .failure(TargetProblem(message: "\(volumePath) is a device: importing into a raw block device is not supported yet; use a directory or file volume"))
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: volumePath, withIntermediateDirectories: true)
        } catch {
            return .failure(TargetProblem(message: "cannot create the volume directory \(volumePath): \(error)"))
        }
        return .success("\(volumePath)/\(StorageNames.diskImageName)")
    }

    /// Why a volume cannot be imported into.
    struct TargetProblem: Error {
        var message: String
    }

    /// A Secret the http source names, or an error that says which and where to create it.
    func secret(_ name: String, namespace: String, use: String) async throws(VirtError) -> Secret {
        do {
            return try await client.get(ResourcePath.core("secrets").inNamespace(namespace).named(name)).decoded()
        } catch {
            throw VirtError(.notFound, "secret \"\(name)\" of the import source's \(use): \(error.message); create it in namespace \(namespace)", cause: error)
        }
    }

    /// A Secret's value, decoded.
    static func value(of key: String, in secret: Secret) -> String? {
        secret.data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? secret.stringData?[key]
    }

    /// The importer's request from the claim's annotations, with the Secret's credentials and the ConfigMap's CAs.
    func importRequest(_ claim: JSONValue, namespace: String, target: String, size: Int64) async throws(VirtError) -> VolumeImportRequest {
        let annotations = claim[path: ["metadata", "annotations"]]?.objectValue ?? [:]
        let source = Self.importSource(claim) ?? CDINames.Source.blank
        var request = VolumeImportRequest(source: source, target: target, size: size, logPath: target + ".import.log")
        // A registry source carries its URL, secretRef and certConfigMap as an http one does (RegistryImageImporter pulls it).
        guard source == CDINames.Source.http || source == CDINames.Source.registry else { return request }
        request.url = annotations[CDINames.Annotation.endpoint]?.stringValue
        request.architecture = annotations[CDINames.Annotation.registryArchitecture]?.stringValue
        request.checksum = annotations[CDINames.Annotation.checksum]?.stringValue
        request.headers = annotations.filter { $0.key.hasPrefix(CDINames.Annotation.extraHeaders + ".") }
            .sorted { $0.key < $1.key }.compactMap { $0.value.stringValue }
        request.insecureSkipVerify = annotations[CDINames.Annotation.insecureSkipVerify]?.stringValue == "true"
        // secretExtraHeaders: every value of each Secret is one `Name: value` header, as in CDI.
        for name in annotations.filter({ $0.key.hasPrefix(CDINames.Annotation.secretExtraHeaders + ".") })
            .sorted(by: { $0.key < $1.key }).compactMap({ $0.value.stringValue }) {
            let secret = try await secret(name, namespace: namespace, use: "secretExtraHeaders")
            for key in Set((secret.data ?? [:]).keys).union((secret.stringData ?? [:]).keys).sorted() {
                if let value = Self.value(of: key, in: secret) { request.headers.append(value) }
            }
        }
        if let secretName = annotations[CDINames.Annotation.secretName]?.stringValue, !secretName.isEmpty {
            let secret = try await secret(secretName, namespace: namespace, use: "secretRef (with accessKeyId and secretKey)")
            request.username = Self.value(of: "accessKeyId", in: secret)
            request.password = Self.value(of: "secretKey", in: secret)
        }
        if let configMapName = annotations[CDINames.Annotation.certConfigMap]?.stringValue, !configMapName.isEmpty {
            let configMap: JSONValue
            do {
                configMap = try await client.get(ResourcePath.core("configmaps").inNamespace(namespace).named(configMapName))
            } catch {
                throw VirtError(.notFound, "configmap \"\(configMapName)\" of the import source's certConfigMap: \(error.message); create it in namespace \(namespace)", cause: error)
            }
            request.caBundlePEM = (configMap["data"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.compactMap { $0.value.stringValue }.joined(separator: "\n")
        }
        return request
    }
}
