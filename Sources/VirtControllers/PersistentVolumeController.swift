import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// Kubernetes' PersistentVolume controller, with SwiftVirt's two provisioners built in: binds claims to
/// volumes, provisions volumes for claims of the `swiftvirt.io/local` and `swiftvirt.io/shared` classes,
/// releases and reclaims volumes whose claims are gone, and keeps a claim that a pod uses
/// (`kubernetes.io/pvc-protection`) until no pod uses it.
///
/// One queue holds both kinds: a key with a namespace is a PersistentVolumeClaim, one without a
/// PersistentVolume (which is cluster-scoped).
///
/// Claims (``syncClaim(_:)``):
/// - A claim that names no class gets the default class (`storageclass.kubernetes.io/is-default-class`).
/// - A claim labelled `cdi.kubevirt.io/applyStorageProfile: "true"` that lacks access modes or a volume mode
///   (or asks `FromStorageProfile`) gets them from its class' StorageProfile before it binds, as CDI's PVC
///   webhook completes it (``StorageProfile/completeClaimModes(_:className:field:sets:)``, shared with
///   DataVolumes); one the profile cannot complete stays `Pending` with CDI's `ErrClaimNotValid` event.
/// - `spec.volumeName` binds to that volume; else an `Available` volume of the same class, volume mode and
///   access modes, big enough, the smallest first; else a class of ours provisions one, `pvc-<claim uid>`,
///   with the claim's size, modes and class, and the class' reclaim policy.
/// - `WaitForFirstConsumer`: the claim stays `Pending` (event `WaitForFirstConsumer`) until the scheduler
///   picks a node for a pod that uses it and writes `volume.kubernetes.io/selected-node`; the volume is then
///   made for that node (node affinity on `kubernetes.io/hostname`).
/// - A bound claim is `Bound` with the volume's capacity and access modes, and the annotations
///   `pv.kubernetes.io/bind-completed` and `pv.kubernetes.io/bound-by-controller`; a bound claim whose volume
///   is gone is `Lost` (event `ClaimLost`).
///
/// Volumes (``syncVolume(_:)``): `Available` without a claim, `Bound` with one, `Released` once its claim is
/// gone; a released volume with `persistentVolumeReclaimPolicy: Delete` is deleted (its files go when the node
/// agent that holds them drops the `swiftvirt.io/volume-reclaim` finalizer); `Retain` keeps it `Released`.
///
/// The files behind a volume are the node agent's: it makes them when a guest first needs them and removes
/// them on reclaim. This controller only writes API objects.
public struct PersistentVolumeController: Reconciler {
    let client: any APIClient
    let claims: ObjectCache
    let volumes: ObjectCache
    let classes: ObjectCache
    let pods: ObjectCache
    /// StorageProfiles (`nil`: the built-in claim property sets of each class' provisioner).
    let profiles: ObjectCache?
    let recorder: EventRecorder
    let now: @Sendable () -> Date
    let logger: Logger

    public init(client: any APIClient, claims: ObjectCache, volumes: ObjectCache, classes: ObjectCache, pods: ObjectCache,
                profiles: ObjectCache? = nil, recorder: EventRecorder, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.classes = classes
        self.pods = pods
        self.profiles = profiles
        self.recorder = recorder
        self.now = now
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        key.namespace == nil ? try await syncVolume(key) : try await syncClaim(key)
    }

    // MARK: - Lookups

    /// The class a claim asks for: its own `storageClassName`, else the default class (the newest, if several
    /// say they are), else none (`""`: only volumes without a class).
    func className(of claim: PersistentVolumeClaim) -> String {
        if let name = claim.spec?.storageClassName { return name }
        return Self.defaultClass(among: classes.list())?.metadataName ?? ""
    }

    /// The default StorageClass among `classes`.
    public static func defaultClass(among classes: [JSONValue]) -> JSONValue? {
        classes.filter { $0[path: ["metadata", "annotations", StorageNames.defaultClassAnnotation]]?.stringValue == "true" }
            .max { ($0[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "", $0.metadataName ?? "")
                < ($1[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "", $1.metadataName ?? "") }
    }

    func storageClass(_ name: String) -> StorageClass? {
        guard !name.isEmpty else { return nil }
        return try? classes.get(ObjectKey(namespace: nil, name: name))?.decoded(as: StorageClass.self)
    }

    /// Whether a pod that has not finished uses the claim (so `kubernetes.io/pvc-protection` holds it).
    func inUse(namespace: String?, claimName: String) -> Bool {
        pods.list(namespace: namespace).contains { pod in
            let phase = pod[path: ["status", "phase"]]?.stringValue
            guard phase != "Succeeded", phase != "Failed" else { return false }
            return Self.claimNames(ofPod: pod).contains(claimName)
        }
    }

    /// The claims a pod's volumes name.
    public static func claimNames(ofPod pod: JSONValue) -> [String] {
        (pod[path: ["spec", "volumes"]]?.arrayValue ?? []).compactMap { $0[path: ["persistentVolumeClaim", "claimName"]]?.stringValue }
    }

    // MARK: - Writes

    /// Records an event, once per reason and message in a row (a claim waiting is reconciled often).
    func event(_ object: JSONValue, _ type: EventRecorder.EventType, reason: String, message: String) async {
        await recorder.record(object, type, reason: reason, message: message)
    }

    func claimPath(_ key: ObjectKey) -> ResourcePath { StorageNames.claims.inNamespace(key.namespace).named(key.name) }
    func volumePath(_ name: String) -> ResourcePath { StorageNames.volumes.named(name) }

    /// Writes `status.phase` (and what goes with it) when it differs.
    func setVolumePhase(_ object: JSONValue, _ phase: String, message: String? = nil) async throws(VirtError) -> JSONValue {
        guard object[path: ["status", "phase"]]?.stringValue != phase || object[path: ["status", "message"]]?.stringValue != message else {
            return object
        }
        var updated = object
        var status: JSONValue = ["phase": .string(phase), "lastPhaseTransitionTime": .string(KubeTime.format(now()))]
        if let message { status["message"] = .string(message) }
        updated["status"] = status
        return try await client.updateStatus(volumePath(object.metadataName ?? ""), body: updated)
    }
}
