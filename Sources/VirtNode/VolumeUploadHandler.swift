import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// The node's part of CDI's uploads (KubeVirt's upload server pod, replaced by the node agent): a claim
/// with `cdi.kubevirt.io/storage.upload.target` whose volume this node holds is made ready to receive,
/// and the image that the API server's upload proxy streams to ``NodeEndpoint`` is piped into
/// `swiftvirt-importer --file -` (``UploadImporter``), which writes `disk.img` and, only once it is
/// complete, its marker.
///
/// | annotation on the claim | written |
/// | --- | --- |
/// | `volume.kubernetes.io/selected-node` | this node, for a claim with `cdi.kubevirt.io/storage.bind.immediate.requested` that waits for its first consumer (CDI's upload pod would be that consumer) |
/// | `swiftvirt.io/import-node`, `cdi.kubevirt.io/storage.pod.phase` `Running`, `cdi.kubevirt.io/storage.pod.ready` `true` | once the claim is bound to a volume here: ready to receive |
/// | `cdi.kubevirt.io/storage.pod.phase` `Succeeded`, progress `100.0%`, `.condition.running` `false`/`Completed` | the image is complete (marker written) |
/// | `cdi.kubevirt.io/storage.pod.restarts`, `.condition.running.{reason,message}` | an upload failed or was cut off; the claim stays ready for another |
///
/// One upload per claim at a time; a second is refused with 409 while the first runs.
public struct VolumeUploadHandler: Reconciler {
    let client: any APIClient
    let claims: ObjectCache
    let volumes: ObjectCache
    let nodeName: String
    let directories: VolumeDirectories
    let importer: any UploadImporter
    let logger: Logger
    /// The claims (namespace/name) receiving an upload now.
    let receiving = Receiving()

    public init(client: any APIClient, claims: ObjectCache, volumes: ObjectCache, nodeName: String, directories: VolumeDirectories,
                importer: any UploadImporter = UploadImporterProcess(), logger: Logger) {
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.nodeName = nodeName
        self.directories = directories
        self.importer = importer
        self.logger = logger
    }

    /// Whether a claim is an upload target (an event on it should wake this handler).
    public static func isUploadTarget(_ claim: JSONValue) -> Bool {
        claim[path: ["metadata", "annotations", CDINames.Upload.targetAnnotation]] != nil
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = claims.get(key), object.metadataDeletionTimestamp == nil, Self.isUploadTarget(object) else { return .done }
        let annotations = object[path: ["metadata", "annotations"]]
        let annotation = { (name: String) in annotations?[name]?.stringValue }
        guard annotation(CDINames.Annotation.podPhase) != CDINames.PodPhase.succeeded else { return .done }
        let path = StorageNames.claims.inNamespace(key.namespace).named(key.name)

        guard object[path: ["status", "phase"]]?.stringValue == "Bound", let volumeName = object[path: ["spec", "volumeName"]]?.stringValue,
              let volumeObject = volumes.get(ObjectKey(namespace: nil, name: volumeName))
        else {
            // Force-bind: the upload is this claim's first consumer, placed on the first node that asks.
            let unbound = (object[path: ["spec", "volumeName"]]?.stringValue ?? "").isEmpty
            if unbound, annotation(CDINames.Upload.bindImmediateAnnotation) == "true", annotation(StorageNames.selectedNodeAnnotation) == nil {
                do {
                    _ = try await client.patch(path, mergePatch: ["metadata": [
                        "resourceVersion": .string(object.metadataResourceVersion ?? ""),
                        "annotations": [StorageNames.selectedNodeAnnotation: .string(nodeName)],
                    ]])
                    logger.info("upload claim \(key) binds here (\(CDINames.Upload.bindImmediateAnnotation))")
                } catch {
                    if error.code == .conflict { return .requeue(after: .seconds(1)) }
                    throw error
                }
            }
            return .done
        }
        let volume: PersistentVolume = try volumeObject.decoded()
        guard VolumeDirectories.holds(volume, nodeName: nodeName) else { return .done }
        if let taker = annotation(VolumeImportHandler.importNodeAnnotation), !taker.isEmpty, taker != nodeName { return .done }
        if annotation(CDINames.Upload.readyAnnotation) == "true", annotation(VolumeImportHandler.importNodeAnnotation) == nodeName { return .done }
        do {
            _ = try await client.patch(path, mergePatch: ["metadata": [
                "resourceVersion": .string(object.metadataResourceVersion ?? ""),
                "annotations": [
                    VolumeImportHandler.importNodeAnnotation: .string(nodeName), CDINames.Annotation.podPhase: .string(CDINames.PodPhase.running),
                    CDINames.Upload.readyAnnotation: "true", CDINames.Annotation.runningCondition: "true",
                    CDINames.Annotation.runningConditionReason: "Pod is running", CDINames.Annotation.runningConditionMessage: "",
                ],
            ]])
        } catch {
            if error.code == .conflict { return .requeue(after: .seconds(1)) }
            throw error
        }
        logger.info("claim \(key) is ready to receive an upload")
        return .done
    }

    // MARK: - Receiving

    /// Starts the import of an upload into claim `namespace/name`: checks that it is an upload target
    /// made ready here, and that no other upload into it runs.
    func begin(namespace: String, name: String) throws(VirtError) -> RunningUpload {
        let key = ObjectKey(namespace: namespace, name: name)
        guard let object = claims.get(key) else {
            throw VirtError(.notFound, "persistentvolumeclaims \"\(name)\" not found in namespace \(namespace) on node \(nodeName)")
        }
        let annotations = object[path: ["metadata", "annotations"]]
        let annotation = { (name: String) in annotations?[name]?.stringValue }
        guard Self.isUploadTarget(object) else {
            throw VirtError(.badRequest, "claim \(namespace)/\(name) is not an upload target (no \(CDINames.Upload.targetAnnotation))")
        }
        guard annotation(CDINames.Annotation.podPhase) != CDINames.PodPhase.succeeded else {
            throw VirtError(.badRequest, "the upload into claim \(namespace)/\(name) is complete already")
        }
        guard annotation(CDINames.Upload.readyAnnotation) == "true", annotation(VolumeImportHandler.importNodeAnnotation) == nodeName,
              let volumeName = object[path: ["spec", "volumeName"]]?.stringValue,
              let volume = try? volumes.get(ObjectKey(namespace: nil, name: volumeName))?.decoded(as: PersistentVolume.self)
        else {
            throw VirtError(.serviceUnavailable, "claim \(namespace)/\(name) is not ready to receive an upload on node \(nodeName) yet")
        }
        let volumePath = try directories.path(of: volume)
        let target: String
        switch VolumeImportHandler.target(volumePath: volumePath) {
        case .failure(let problem): throw VirtError(.badRequest, problem.message)
        case .success(let path): target = path
        }
        let claimCapacity = try? object[path: ["status", "capacity"]]?.decoded(as: ResourceList.self)
        let size = claimCapacity?["storage"]?.bytes ?? volume.spec?.capacity?["storage"]?.bytes ?? 0
        guard receiving.insert("\(namespace)/\(name)") else {
            throw VirtError(.conflict, "an upload into claim \(namespace)/\(name) is running already; wait for it to end")
        }
        do {
            let running = try importer.start(target: target, size: size, logPath: target + ".upload.log")
            logger.info("receiving an upload into claim \(key)", metadata: ["target": "\(target)"])
            return running
        } catch {
            receiving.remove("\(namespace)/\(name)")
            throw error
        }
    }

    /// Reports how an upload ended on the claim, and lets the next one in; `nil` when the image is
    /// complete, else the error to answer with.
    func end(namespace: String, name: String, outcome: VolumeImportOutcome) async -> VirtError? {
        defer { receiving.remove("\(namespace)/\(name)") }
        let key = ObjectKey(namespace: namespace, name: name)
        let path = StorageNames.claims.inNamespace(namespace).named(name)
        var failure: VirtError?
        var annotations: JSONValue
        var outcome = outcome
        if outcome == .succeeded, let volumeName = claims.get(key)?[path: ["spec", "volumeName"]]?.stringValue,
           let volume = try? volumes.get(ObjectKey(namespace: nil, name: volumeName))?.decoded(as: PersistentVolume.self),
           let volumePath = try? directories.path(of: volume),
           !FileManager.default.fileExists(atPath: VolumeImportHandler.markerPath(volumePath: volumePath))
        {
            outcome = .failed(reason: "MarkerMissing", message: "the importer ended without writing the image's marker", retryable: true)
        }
        switch outcome {
        case .succeeded:
            logger.info("upload into claim \(key) complete")
            annotations = [
                CDINames.Annotation.podPhase: .string(CDINames.PodPhase.succeeded), CDINames.Annotation.progress: "100.0%",
                CDINames.Upload.readyAnnotation: "false", CDINames.Annotation.runningCondition: "false",
                CDINames.Annotation.runningConditionReason: .string(CDINames.Reason.completed),
                CDINames.Annotation.runningConditionMessage: "Upload Complete",
            ]
        case .failed(let reason, let message, _):
            let text = "\(reason): \(message)"
            logger.warning("upload into claim \(key) failed: \(text)")
            let restarts = Int(claims.get(key)?[path: ["metadata", "annotations", CDINames.Annotation.podRestarts]]?.stringValue ?? "") ?? 0
            annotations = [
                CDINames.Annotation.runningCondition: "true", CDINames.Annotation.runningConditionReason: .string(CDINames.Reason.error),
                CDINames.Annotation.runningConditionMessage: .string("the last upload failed (\(text)); upload again"),
                CDINames.Annotation.podRestarts: .string(String(restarts + 1)),
            ]
            failure = VirtError(.badRequest, "the upload into claim \(namespace)/\(name) failed: \(text); nothing was kept, upload again")
        }
        do {
            _ = try await client.patch(path, mergePatch: ["metadata": ["annotations": annotations]])
        } catch {
            logger.error("cannot report the upload into claim \(key): \(error)")
            return failure ?? VirtError(.serviceUnavailable, "the image is complete but its claim could not be updated: \(error.message)")
        }
        return failure
    }

    /// The claims receiving an upload.
    final class Receiving: Sendable {
        private let keys = Mutex<Set<String>>([])

        func insert(_ key: String) -> Bool { keys.withLock { $0.insert(key).inserted } }
        func remove(_ key: String) { _ = keys.withLock { $0.remove(key) } }
    }
}
