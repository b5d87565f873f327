import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtError
import VirtOS
import VirtReconcile

/// The node's part of CDI's clone: copies the disk of the claim a bound claim's `k8s.io/CloneRequest`
/// (`<namespace>/<name>`, written by the DataVolume controller) names into it, when this node holds both
/// volumes, and reports on the claim in the importer-pod annotations an import uses (``VolumeImportHandler``),
/// which the DataVolume controller turns into the clone's phases (`CloneScheduled`, `CloneInProgress`, `Succeeded`).
///
/// The copy (``FileClone``) is `cp --reflink=auto`: an FICLONE ioctl where the volumes' filesystem shares
/// extents (xfs with reflink, btrfs), else a copy of the source's data extents; into `disk.img.clone`, grown
/// to the target claim's capacity (never shrunk), synced, renamed to `disk.img` (a Filesystem volume and the
/// file behind a Block one), and only then marked with `disk.img.complete`, the importer's marker, so a VM
/// never boots a half copy. The source must be populated (bound, and its import or clone succeeded, its
/// marker written when it has one). A source bigger than the target fails the clone (`Failed`, not retried);
/// other failures are retried with the import's back-off. A target on another node than a node-local source
/// is refused: cloning local volumes across nodes is not supported yet (the controller pins a clone of a
/// local class to the source's node, so this is a target that was bound elsewhere by hand).
public struct VolumeCloneHandler: Reconciler {
    let client: any APIClient
    let claims: ObjectCache
    let volumes: ObjectCache
    let nodeName: String
    let directories: VolumeDirectories
    let logger: Logger
    /// When each claim (by UID) may be retried.
    let retries = ImportRetrySchedule()

    public init(client: any APIClient, claims: ObjectCache, volumes: ObjectCache, nodeName: String, directories: VolumeDirectories, logger: Logger) {
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.nodeName = nodeName
        self.directories = directories
        self.logger = logger
    }

    /// Whether a claim is the target of a clone (an event on it should wake this handler).
    public static func wantsClone(_ claim: JSONValue) -> Bool { source(of: claim) != nil }

    /// The source claim a target claim's `k8s.io/CloneRequest` names.
    static func source(of claim: JSONValue) -> ObjectKey? {
        guard let request = claim[path: ["metadata", "annotations", CDINames.cloneRequestAnnotation]]?.stringValue else { return nil }
        let parts = request.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return ObjectKey(namespace: String(parts[0]), name: String(parts[1]))
    }

    /// The image file of a volume at `path`: `disk.img` in its directory, or the file itself.
    static func image(volumePath path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { return path }
        return "\(path)/\(StorageNames.diskImageName)"
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let decision = try VolumeFillClaim.decide(key, claims: claims, volumes: volumes, nodeName: nodeName, retries: retries, wants: Self.wantsClone)
        guard case .fill(let claim) = decision else { return decision.result }
        let (object, uid, volume, annotation) = (claim.object, claim.uid, claim.volume, claim.annotation)
        guard let sourceKey = Self.source(of: object) else { return .done }

        // The source: there, populated, and on this node (a shared target is taken by the node of a local source).
        guard let sourceClaim = claims.get(sourceKey), CDINames.isPopulated(sourceClaim),
              let sourceVolumeName = sourceClaim[path: ["spec", "volumeName"]]?.stringValue,
              let sourceVolumeObject = volumes.get(ObjectKey(namespace: nil, name: sourceVolumeName))
        else { return .requeue(after: .seconds(2)) }
        let sourceVolume: PersistentVolume = try sourceVolumeObject.decoded()
        let path = StorageNames.claims.inNamespace(key.namespace).named(key.name)
        let restarts = Int(annotation(CDINames.Annotation.podRestarts) ?? "") ?? 0
        guard VolumeDirectories.holds(sourceVolume, nodeName: nodeName) else {
            // A shared target: the source's node takes it. A local one here: nobody can.
            guard volume.spec?.nodeAffinity != nil else { return .done }
            return try await report(.failed(reason: "CloneAcrossNodes", message: "the source PVC \(sourceKey.namespace ?? "")/\(sourceKey.name) is on another node than \(nodeName), which holds the target: cloning node-local volumes across nodes is not supported yet; clone into a claim of the shared class or on the source's node", retryable: false),
                                    path: path, uid: uid, restarts: restarts, marker: nil, key: key)
        }
        let sourcePath = try directories.path(of: sourceVolume)
        let sourceImage = Self.image(volumePath: sourcePath)
        let sourceMarker = VolumeImportHandler.markerPath(volumePath: sourcePath)
        let sourceFilled = sourceClaim[path: ["metadata", "annotations", CDINames.Annotation.podPhase]] != nil
        if sourceFilled, !FileManager.default.fileExists(atPath: sourceMarker) { return .requeue(after: .seconds(2)) }

        // Take the clone (a conflict: another agent or writer was first; look again).
        do {
            _ = try await client.patch(path, mergePatch: ["metadata": [
                "resourceVersion": .string(object.metadataResourceVersion ?? ""),
                "annotations": [
                    VolumeImportHandler.importNodeAnnotation: .string(nodeName), CDINames.Annotation.podPhase: .string(CDINames.PodPhase.running),
                    CDINames.Annotation.runningCondition: "true", CDINames.Annotation.runningConditionReason: "",
                    CDINames.Annotation.runningConditionMessage: "", CDINames.Annotation.progress: "0.00%",
                ],
            ]])
        } catch {
            if error.code == .conflict { return .requeue(after: .seconds(1)) }
            throw error
        }

        let volumePath = try directories.path(of: volume)
        let marker = VolumeImportHandler.markerPath(volumePath: volumePath)
        let target: String
        switch VolumeImportHandler.target(volumePath: volumePath) {
        case .failure(let problem):
            return try await report(.failed(reason: "InvalidTarget", message: problem.message, retryable: false),
                                    path: path, uid: uid, restarts: restarts, marker: nil, key: key)
        case .success(let file): target = file
        }
        let claimCapacity = try? object[path: ["status", "capacity"]]?.decoded(as: ResourceList.self)
        let size = claimCapacity?["storage"]?.bytes ?? volume.spec?.capacity?["storage"]?.bytes ?? 0
        let described = "\(sourceKey.namespace ?? "")/\(sourceKey.name)"
        logger.info("cloning into claim \(key)", metadata: ["source": "\(described)", "from": "\(sourceImage)", "to": "\(target)"])
        unlink(marker)
        let outcome: VolumeImportOutcome
        do {
            let result = try await copyReportingProgress(path: path) { progress throws(FileClone.Failure) in
                try FileClone.clone(source: sourceImage, target: target, size: size, progress: progress)
            }
            let record = CloneMarker(source: "pvc://\(described)", format: ImageMarkerFormat.of(sourceMarker), virtualSize: result.targetSize,
                                     downloadedBytes: result.sourceSize, method: result.method.rawValue)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try FileClone.writeAtomically((try? encoder.encode(record)) ?? Data("{}".utf8), to: marker)
            logger.info("clone into claim \(key) complete", metadata: ["method": "\(result.method.rawValue)", "bytes": "\(result.sourceSize)"])
            outcome = .succeeded
        } catch {
            outcome = .failed(reason: error.tooSmall ? CDINames.CloneReason.cloneValidationFailed : "CloneFailed",
                              message: error.tooSmall ? "target resources requests storage size is smaller than the source: \(error.message)" : error.message,
                              retryable: !error.tooSmall)
        }
        return try await report(outcome, path: path, uid: uid, restarts: restarts, marker: marker, key: key)
    }

    /// Runs the copy on a thread of its own and, while it runs, writes how far it is to the claim every second
    /// (`cdi.kubevirt.io/storage.populator.progress`, `NN.NN%`, as an import does).
    func copyReportingProgress(path: ResourcePath, _ copy: @escaping @Sendable (@escaping FileClone.Progress) throws(FileClone.Failure) -> FileClone.Result)
        async throws(FileClone.Failure) -> FileClone.Result
    {
        let fraction = CloneFraction()
        let progress: FileClone.Progress = { copied, total in
            guard total > 0 else { return }
            fraction.value.withLock { $0 = Double(copied) / Double(total) }
        }
        let client = self.client
        let outcome = await withTaskGroup(of: Result<FileClone.Result, FileClone.Failure>?.self) { group in
            group.addTask {
                do throws(FileClone.Failure) { return .success(try await Self.offThread { () throws(FileClone.Failure) in try copy(progress) }) } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                var reported: String?
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    guard !Task.isCancelled, let value = fraction.value.withLock({ $0 }) else { continue }
                    let text = String(format: "%.2f%%", min(value, 0.9999) * 100)
                    guard text != reported else { continue }
                    reported = text
                    _ = try? await client.patch(path, mergePatch: ["metadata": ["annotations": [CDINames.Annotation.progress: .string(text)]]])
                }
                return nil
            }
            var outcome: Result<FileClone.Result, FileClone.Failure> = .failure(FileClone.Failure("the copy did not finish"))
            for await value in group {
                guard let value else { continue }
                outcome = value
                group.cancelAll()
            }
            return outcome
        }
        return try outcome.get()
    }

    /// Runs a blocking copy on a thread of its own, not on the concurrency pool.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws(FileClone.Failure) -> T) async throws(FileClone.Failure) -> T {
        let result: Result<T, FileClone.Failure> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                do throws(FileClone.Failure) { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    /// Writes how the clone ended (``VolumeFillReport``); a retryable failure comes back after its back-off.
    func report(_ outcome: VolumeImportOutcome, path: ResourcePath, uid: String, restarts: Int, marker: String?, key: ObjectKey)
        async throws -> ReconcileResult
    {
        try await VolumeFillReport(noun: "clone", completeMessage: "Clone Complete", retryPhase: CDINames.PodPhase.pending)
            .write(outcome, marker: marker, path: path, uid: uid, restarts: restarts, key: key, client: client, retries: retries, logger: logger)
    }
}

/// How far a copy is (0…1), written by the copying thread, read by the reporter.
final class CloneFraction: Sendable {
    let value = Mutex<Double?>(nil)
}

/// The marker a clone writes: the importer's fields (`source`, `format`, `virtualSize`, `downloadedBytes`)
/// and how the data was copied.
struct CloneMarker: Codable {
    var source: String
    var format: String
    var virtualSize: Int64
    var downloadedBytes: Int64
    var method: String
}

/// The image format a source's marker records (`raw` when it has none).
enum ImageMarkerFormat {
    static func of(_ marker: String) -> String {
        guard let data = FileManager.default.contents(atPath: marker),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let format = object["format"] as? String
        else { return "raw" }
        return format
    }
}
