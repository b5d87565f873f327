import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// CDI's DataVolume controller, for the `http`, `registry` (``registryAnnotations(_:)``) and `blank` sources: gives each DataVolume the
/// PersistentVolumeClaim of its name and reports the import that fills it.
///
/// The claim (``desiredClaim(for:object:)``): owned by the DataVolume; `spec.pvc` as given, or
/// `spec.storage` completed from the class' StorageProfile — the default class when none is named, the
/// access and volume modes from the profile's `status.claimPropertySets` (``StorageProfile/completeClaimModes(_:className:field:sets:)``;
/// a class whose profile has none leaves the DataVolume `Pending` with `ErrClaimNotValid`). It carries CDI's import annotations
/// (`cdi.kubevirt.io/storage.import.endpoint`, `.source`, `.secretName`, `.certConfigMap`,
/// `.checksum`, `.extraHeaders.N`, `.secretExtraHeaders.N`, `cdi.kubevirt.io/storage.contentType`, and
/// `swiftvirt.io/import-insecure-skip-verify`), which tell the node agent that
/// holds the volume what to import. The agent answers in CDI's importer-pod annotations on the claim
/// (`cdi.kubevirt.io/storage.pod.phase`, `.pod.restarts`, `.condition.running{,.reason,.message}`,
/// `cdi.kubevirt.io/storage.populator.progress`); this controller turns them into the DataVolume's status.
///
/// Phases: `Pending` → `WaitForFirstConsumer` (the class binds on first consumer and no pod was
/// scheduled with the claim yet: CDI's honorWaitForFirstConsumer) or `PVCBound` → `ImportScheduled` →
/// `ImportInProgress` → `Succeeded` | `Failed`; `status.progress` `N/A` until the import reports,
/// `100.0%` once it succeeded; conditions `Bound`, `Running`, `Ready`; one event per phase reached.
///
/// Clones (`source.pvc`, `sourceRef` to a DataSource) are checked and planned in `DataVolumeController+Clone`.
/// Other sources (upload, s3, gcs, imageio, vddk, snapshot) and `contentType:
/// archive` are not imported yet: such a DataVolume gets no claim, stays `Pending`, and its `Running` condition says so.
public struct DataVolumeController: Reconciler {
    let client: any APIClient
    let dataVolumes: ObjectCache
    let claims: ObjectCache
    let classes: ObjectCache
    /// StorageProfiles (`nil`: the built-in claim property sets of each class' provisioner).
    let profiles: ObjectCache?
    let recorder: EventRecorder
    let now: @Sendable () -> Date
    let logger: Logger
    /// What clones read besides claims (``withCloneSources(pods:volumes:dataSources:)``).
    var cloneSources = CloneSources()

    public init(client: any APIClient, dataVolumes: ObjectCache, claims: ObjectCache, classes: ObjectCache, profiles: ObjectCache? = nil,
                recorder: EventRecorder, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.client = client
        self.dataVolumes = dataVolumes
        self.claims = claims
        self.classes = classes
        self.profiles = profiles
        self.recorder = recorder
        self.now = now
        self.logger = logger
    }

    /// The path DataVolumes are served at.
    public static let path = ResourcePath(group: "cdi.kubevirt.io", version: "v1beta1", resource: "datavolumes")

    /// The key of the DataVolume that controls a claim, for the claim informer's handler.
    public static func ownerKey(ofClaim object: JSONValue) -> ObjectKey? {
        guard let owner = object.controllerReference, owner.kind == "DataVolume" else { return nil }
        return ObjectKey(namespace: object.metadataNamespace, name: owner.name)
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = dataVolumes.get(key), let uid = object.metadataUID, object.metadataDeletionTimestamp == nil else { return .done }
        let dataVolume: DataVolume
        do {
            dataVolume = try object.decoded()
        } catch {
            throw TerminalError("DataVolume \(key) does not decode", cause: error)
        }
        let claimPath = StorageNames.claims.inNamespace(key.namespace).named(key.name)
        var claim = claims.get(key)

        if let unsupported = Self.unsupportedSource(dataVolume.spec) {
            try await writeStatus(object, observed: Observation.unsupported(unsupported), claimName: nil)
            return .done
        }
        if let existing = claim, !existing.isControlled(byUID: uid) {
            await recorder.record(object, .warning, reason: CDINames.Reason.errResourceExists,
                                  message: "Resource \"\(key.name)\" already exists and is not managed by DataVolume")
            return .done
        }
        var clonePlan: ClonePlan?
        if claim == nil, Self.isClone(dataVolume.spec) {
            switch try await planClone(dataVolume, object: object, key: key) {
            case .proceed(let plan): clonePlan = plan
            case .stop(let result): return result
            }
        }
        if claim == nil {
            let body: JSONValue
            do {
                body = try desiredClaim(for: dataVolume, object: object)
            } catch {
                try await reportClaimNotValid(object, message: error.message)
                return .done
            }
            do {
                claim = try await client.create(StorageNames.claims.inNamespace(key.namespace),
                                                body: clonePlan.map { $0.apply(to: body, pinToNode: pinsToSourceNode(body)) } ?? body)
            } catch {
                if error.code != .exists { throw error }
                return .requeue(after: .seconds(1))
            }
            logger.info("created the claim of DataVolume \(key)")
        }
        guard let claim else { return .done }
        let className = claim[path: ["spec", "storageClassName"]]?.stringValue ?? ""
        let waitsForConsumer = storageClass(className)?.volumeBindingMode == StorageNames.waitForFirstConsumer
        var observed = Observation(claim: claim, waitsForConsumer: waitsForConsumer)
        if let source = Self.cloneRequest(of: claim) { observed = observed.forClone(source: source) }
        try await writeStatus(object, observed: observed, claimName: claimPath.name)
        return .done
    }

    /// Why CDI's source of this DataVolume is not imported here yet, or nil for http and blank.
    static func unsupportedSource(_ spec: DataVolumeSpec) -> String? {
        if isClone(spec) { return nil }
        if spec.contentType == "archive" { return "contentType archive is not imported yet; use contentType kubevirt (a disk image)" }
        let types = spec.source?.sourceTypes ?? []
        guard let type = types.first else { return "the DataVolume has no source; use source.http or source.blank" }
        if type == CDINames.Source.registry, let registry = spec.source?.registry { return unsupportedRegistry(registry) }
        if type == CDINames.Upload.source { return nil }
        guard type == CDINames.Source.http || type == CDINames.Source.blank else {
            return "source.\(type) is not imported yet; use source.http or source.blank"
        }
        return nil
    }

    func storageClass(_ name: String) -> StorageClass? {
        guard !name.isEmpty else { return nil }
        return try? classes.get(ObjectKey(namespace: nil, name: name))?.decoded(as: StorageClass.self)
    }

    /// The claim CDI would create for the DataVolume (see the type's documentation).
    func desiredClaim(for dataVolume: DataVolume, object: JSONValue) throws(VirtError) -> JSONValue {
        let name = object.metadataName ?? ""
        var spec: JSONValue
        if let pvc = object[path: ["spec", "pvc"]], pvc.objectValue != nil {
            spec = pvc
        } else if var storage = object[path: ["spec", "storage"]], storage.objectValue != nil {
            if (storage["storageClassName"]?.stringValue ?? "").isEmpty,
               let defaultClass = PersistentVolumeController.defaultClass(among: classes.list())?.metadataName
            {
                storage["storageClassName"] = .string(defaultClass)
            }
            let className = storage["storageClassName"]?.stringValue ?? ""
            try StorageProfile.completeClaimModes(&storage, className: className, field: "spec.storage",
                                                  sets: StorageProfileController.claimPropertySets(className: className, profiles: profiles, classes: classes))
            spec = storage
        } else {
            throw VirtError(.invalid, "DataVolume \(name) has neither spec.pvc nor spec.storage; set one")
        }

        var annotations: [String: JSONValue] = [
            CDINames.Annotation.contentType: .string(dataVolume.spec.contentType ?? "kubevirt"),
        ]
        if let http = dataVolume.spec.source?.http {
            annotations[CDINames.Annotation.source] = .string(CDINames.Source.http)
            annotations[CDINames.Annotation.endpoint] = .string(http.url)
            if let secret = http.secretRef, !secret.isEmpty { annotations[CDINames.Annotation.secretName] = .string(secret) }
            if let configMap = http.certConfigMap, !configMap.isEmpty { annotations[CDINames.Annotation.certConfigMap] = .string(configMap) }
            if let checksum = http.checksum, !checksum.isEmpty { annotations[CDINames.Annotation.checksum] = .string(checksum) }
            for (index, header) in (http.extraHeaders ?? []).enumerated() {
                annotations["\(CDINames.Annotation.extraHeaders).\(index)"] = .string(header)
            }
            for (index, secret) in (http.secretExtraHeaders ?? []).enumerated() {
                annotations["\(CDINames.Annotation.secretExtraHeaders).\(index)"] = .string(secret)
            }
            if http.insecureSkipVerify == true { annotations[CDINames.Annotation.insecureSkipVerify] = "true" }
        } else if let registry = dataVolume.spec.source?.registry {
            annotations.merge(Self.registryAnnotations(registry)) { _, new in new }
        } else if dataVolume.spec.source?.upload != nil {
            annotations.merge(Self.uploadAnnotations(object)) { _, new in new }
        } else {
            annotations[CDINames.Annotation.source] = .string(CDINames.Source.blank)
        }
        let owner: JSONValue = [
            "apiVersion": .string(CDINames.apiVersion), "kind": "DataVolume", "name": .string(name),
            "uid": .string(object.metadataUID ?? ""), "controller": true, "blockOwnerDeletion": true,
        ]
        var metadata: JSONValue = [
            "name": .string(name), "annotations": .object(annotations), "ownerReferences": [owner],
            "labels": ["app": "containerized-data-importer"],
        ]
        if let namespace = object.metadataNamespace { metadata["namespace"] = .string(namespace) }
        return ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec]
    }
}
