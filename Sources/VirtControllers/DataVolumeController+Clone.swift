import Foundation
import VirtAPI
import VirtError
import VirtReconcile

/// CDI's clone (`source.pvc`, and `sourceRef` to a DataSource naming a PVC), the controller's part.
///
/// Before the target claim exists the source is resolved and checked, as CDI's clone controller does; while
/// it waits the DataVolume has no claim and its `Running` condition says why, and the check runs again every
/// 2 s (level-based; the DataSource informer also wakes it):
///
/// | source | phase | `Running` reason (event) |
/// | --- | --- | --- |
/// | the DataSource or the PVC does not exist | `Pending` | `CloneWithoutSource` |
/// | the PVC is not populated (its import or clone has not succeeded) | `Pending` | `CloneSourceNotReady` |
/// | a pod that is not done uses the PVC (not `readOnly`) | `CloneScheduled` | `CloneSourceInUse` (event `CloneSourceInUse`: `pod <ns>/<name> using PersistentVolumeClaim <name>`) |
/// | the target asks for less than the source | `Failed` | `CloneValidationFailed` (`target resources requests storage size is smaller than the source`) |
///
/// Then the claim is created as for an import but with `k8s.io/CloneRequest: <ns>/<name>` instead of the
/// import annotations, the source's requested size when the DataVolume names none, and, when the target's
/// class binds on first consumer and the source volume is node-local, `volume.kubernetes.io/selected-node`
/// of the source volume's node: the copy is a reflink or a local copy on the node that holds both volumes
/// (``VolumeCloneHandler`` in the node agent), and the volume of a local class cannot be reached from
/// another node. The agent reports in the importer-pod annotations; a clone's phases are `CloneScheduled`
/// (bound, not taken yet), `CloneInProgress`, `Succeeded` | `Failed`, events `CloneScheduled`,
/// `CloneInProgress`, `CloneSucceeded`, `CloneFailed`.
extension DataVolumeController {
    /// The caches a clone reads besides claims and classes: pods (is the source in use), volumes (the
    /// source's node) and DataSources (`sourceRef`). Empty ones (the default) make every source look unused,
    /// shared and, for `sourceRef`, missing.
    public struct CloneSources: Sendable {
        let pods: ObjectCache
        let volumes: ObjectCache
        let dataSources: ObjectCache

        public init(pods: ObjectCache = ObjectCache(), volumes: ObjectCache = ObjectCache(), dataSources: ObjectCache = ObjectCache()) {
            self.pods = pods
            self.volumes = volumes
            self.dataSources = dataSources
        }
    }

    /// The controller reading these caches for clones.
    public func withCloneSources(pods: ObjectCache, volumes: ObjectCache, dataSources: ObjectCache) -> Self {
        var controller = self
        controller.cloneSources = CloneSources(pods: pods, volumes: volumes, dataSources: dataSources)
        return controller
    }

    /// The source PVC of a clone and what the target claim takes from it.
    struct ClonePlan: Equatable {
        var namespace: String
        var name: String
        /// The source claim's requested size, the target's when the DataVolume names none.
        var size: Quantity?
        /// The node the target claim is pinned to (the source volume's), or nil.
        var node: String?

        /// The `k8s.io/CloneRequest` value.
        var request: String { "\(namespace)/\(name)" }

        static func == (a: ClonePlan, b: ClonePlan) -> Bool {
            a.namespace == b.namespace && a.name == b.name && a.size?.bytes == b.size?.bytes && a.node == b.node
        }

        /// The target claim CDI makes: the clone request instead of the import annotations, the source's size
        /// when none is asked for, and the source's node for a class that binds on first consumer.
        func apply(to claim: JSONValue, pinToNode: Bool) -> JSONValue {
            var claim = claim
            claim[path: ["metadata", "annotations", CDINames.Annotation.source]] = nil
            claim[path: ["metadata", "annotations", CDINames.Annotation.endpoint]] = nil
            claim[path: ["metadata", "annotations", CDINames.cloneRequestAnnotation]] = .string(request)
            if pinToNode, let node { claim[path: ["metadata", "annotations", StorageNames.selectedNodeAnnotation]] = .string(node) }
            if claim[path: ["spec", "resources", "requests", "storage"]] == nil, let size {
                claim[path: ["spec", "resources", "requests", "storage"]] = .string(size.text)
            }
            return claim
        }
    }

    /// What to do with a clone whose claim does not exist yet.
    enum CloneStep {
        /// Create the claim.
        case proceed(ClonePlan)
        /// The status was written; come back (or not) as the result says.
        case stop(ReconcileResult)
    }

    /// Whether the DataVolume is a clone (`source.pvc` or `sourceRef`).
    static func isClone(_ spec: DataVolumeSpec) -> Bool { spec.source?.pvc != nil || spec.sourceRef != nil }

    /// The source claim of a clone's target claim (its `k8s.io/CloneRequest`), or nil.
    static func cloneRequest(of claim: JSONValue) -> String? {
        claim[path: ["metadata", "annotations", CDINames.cloneRequestAnnotation]]?.stringValue
    }

    /// Resolves and checks the clone's source (see the extension's table) before its claim is made.
    func planClone(_ dataVolume: DataVolume, object: JSONValue, key: ObjectKey) async throws -> CloneStep {
        let namespace = key.namespace ?? "default"
        let source: (namespace: String, name: String)
        if let pvc = dataVolume.spec.source?.pvc {
            source = (pvc.namespace.isEmpty ? namespace : pvc.namespace, pvc.name)
        } else if let ref = dataVolume.spec.sourceRef {
            let refNamespace = (ref.namespace ?? "").isEmpty ? namespace : ref.namespace ?? namespace
            let refName = ref.name ?? ""
            guard let dataSourceObject = cloneSources.dataSources.get(ObjectKey(namespace: refNamespace, name: refName)),
                  let dataSource = try? dataSourceObject.decoded(as: DataSource.self)
            else {
                return try await wait(object, phase: CDINames.Phase.pending, reason: CDINames.CloneReason.cloneWithoutSource,
                                      message: "DataSource \(refNamespace)/\(refName) not found; the DataVolume is cloned once it exists")
            }
            guard let pvc = dataSource.spec.source.pvc else {
                return try await fail(object, message: "DataSource \(refNamespace)/\(refName) names no PVC (a snapshot source is not supported yet)")
            }
            source = (pvc.namespace.isEmpty ? refNamespace : pvc.namespace, pvc.name)
        } else {
            return .stop(.done)
        }
        let described = "\(source.namespace)/\(source.name)"
        guard let sourceClaim = claims.get(ObjectKey(namespace: source.namespace, name: source.name)) else {
            return try await wait(object, phase: CDINames.Phase.pending, reason: CDINames.CloneReason.cloneWithoutSource,
                                  message: "The source PVC \(described) doesn't exist; the DataVolume is cloned once it does")
        }
        guard CDINames.isPopulated(sourceClaim) else {
            return try await wait(object, phase: CDINames.Phase.pending, reason: CDINames.CloneReason.cloneSourceNotReady,
                                  message: "The source PVC \(described) is not populated yet (bound, and its import or clone succeeded)")
        }
        if let pod = podUsing(claim: source.name, namespace: source.namespace) {
            let message = "pod \(source.namespace)/\(pod) using PersistentVolumeClaim \(source.name)"
            return try await wait(object, phase: CDINames.ClonePhase.cloneScheduled, reason: CDINames.CloneReason.cloneSourceInUse, message: message)
        }
        let sourceSize = sourceClaim[path: ["spec", "resources", "requests", "storage"]].flatMap { try? $0.decoded(as: Quantity.self) }
        let requested = (object[path: ["spec", "storage", "resources", "requests", "storage"]]
            ?? object[path: ["spec", "pvc", "resources", "requests", "storage"]]).flatMap { try? $0.decoded(as: Quantity.self) }
        if let requested, let sourceSize, requested.bytes < sourceSize.bytes {
            return try await fail(object, message: "target resources requests storage size is smaller than the source: \(requested.text) < \(sourceSize.text) of PVC \(described); request at least \(sourceSize.text) (or leave the size out to take the source's)")
        }
        var node: String?
        if let volumeName = sourceClaim[path: ["spec", "volumeName"]]?.stringValue,
           let volume = cloneSources.volumes.get(ObjectKey(namespace: nil, name: volumeName)) {
            node = Self.node(ofVolume: volume)
        }
        return .proceed(ClonePlan(namespace: source.namespace, name: source.name, size: sourceSize, node: node))
    }

    /// The node a node-local volume lives on (its node affinity's hostname), nil for a shared volume.
    static func node(ofVolume volume: JSONValue) -> String? {
        for term in volume[path: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]]?.arrayValue ?? [] {
            for expression in term["matchExpressions"]?.arrayValue ?? []
            where expression["key"]?.stringValue == StorageNames.hostnameLabel && expression["operator"]?.stringValue == "In" {
                if let node = expression["values"]?.arrayValue?.first?.stringValue { return node }
            }
        }
        return nil
    }

    /// A pod that is not done and may write the claim, by name (one that mounts it `readOnly` cannot change
    /// the copy, and CDI lets it be).
    func podUsing(claim: String, namespace: String) -> String? {
        cloneSources.pods.list(namespace: namespace).first { pod in
            let phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
            guard phase != "Succeeded", phase != "Failed" else { return false }
            return (pod[path: ["spec", "volumes"]]?.arrayValue ?? []).contains { volume in
                volume[path: ["persistentVolumeClaim", "claimName"]]?.stringValue == claim
                    && volume[path: ["persistentVolumeClaim", "readOnly"]]?.boolValue != true
            }
        }?.metadataName
    }

    /// Whether the claim is to be pinned to the source's node: its class binds on first consumer.
    func pinsToSourceNode(_ claim: JSONValue) -> Bool {
        storageClass(claim[path: ["spec", "storageClassName"]]?.stringValue ?? "")?.volumeBindingMode == StorageNames.waitForFirstConsumer
    }

    /// Writes a waiting clone's status (no claim yet; its event, of the `Running` reason, when the phase is
    /// new) and comes back in 2 s.
    func wait(_ object: JSONValue, phase: String, reason: String, message: String) async throws -> CloneStep {
        try await writeStatus(object, observed: .cloneWithoutClaim(phase: phase, reason: reason, message: message), claimName: nil)
        return .stop(.requeue(after: .seconds(2)))
    }

    /// Fails a clone that cannot be made as asked (retrying cannot help).
    func fail(_ object: JSONValue, message: String) async throws -> CloneStep {
        try await writeStatus(object, observed: .cloneWithoutClaim(phase: CDINames.Phase.failed, reason: CDINames.CloneReason.cloneValidationFailed,
                                                                   message: message), claimName: nil)
        return .stop(.done)
    }
}

extension DataVolumeController.Observation {
    /// A clone that has no claim yet: waiting for its source, or failed before it was made.
    static func cloneWithoutClaim(phase: String, reason: String, message: String) -> Self {
        var observed = Self.unsupported(message)
        observed.phase = phase
        observed.running = Condition(type: CDINames.ConditionType.running, status: "False", reason: reason, message: message)
        observed.bound.message = "No PVC was created yet: \(message)"
        observed.cloneSource = ""
        return observed
    }

    /// The observation of a clone's target claim: CDI's clone phases instead of the import's.
    func forClone(source: String) -> Self {
        var observed = self
        observed.cloneSource = source
        switch phase {
        case CDINames.Phase.pvcBound, CDINames.Phase.importScheduled: observed.phase = CDINames.ClonePhase.cloneScheduled
        case CDINames.Phase.importInProgress: observed.phase = CDINames.ClonePhase.cloneInProgress
        default: break
        }
        if observed.phase == CDINames.Phase.succeeded { observed.running.message = "Clone Complete" }
        return observed
    }

    /// The event for reaching a clone's phase, as CDI records it (before the claim exists, the `Running`
    /// condition's reason and message); nil for phases the import's events cover.
    func cloneEvent(source: String) -> (EventRecorder.EventType, String, String)? {
        if claimName.isEmpty {
            return (phase == CDINames.Phase.failed ? .warning : .normal, running.reason ?? "", running.message ?? "")
        }
        switch phase {
        case CDINames.ClonePhase.cloneScheduled: return (.normal, CDINames.CloneReason.cloneScheduled, "Cloning from \(source) into \(claimName) scheduled")
        case CDINames.ClonePhase.cloneInProgress: return (.normal, CDINames.CloneReason.cloneInProgress, "Cloning from \(source) into \(claimName) in progress")
        case CDINames.Phase.succeeded: return (.normal, CDINames.CloneReason.cloneSucceeded, "Successfully cloned from \(source) into \(claimName)")
        case CDINames.Phase.failed:
            let why = running.message.map { $0.isEmpty ? "" : ": \($0)" } ?? ""
            return (.warning, CDINames.CloneReason.cloneFailed, "Failed to clone from \(source) into \(claimName)\(why)")
        default: return nil
        }
    }
}
