import VirtAPI
import VirtClient
import VirtReconcile

/// What the scheduler needs to know about a pod's PersistentVolumeClaims (kube-scheduler's VolumeBinding
/// plugin, reduced): a claim that is missing, being deleted, or unbound in an `Immediate` class keeps the pod
/// off every node; a bound claim's volume node affinity must match the node; an unbound claim of a
/// `WaitForFirstConsumer` class is provisioned on the node the pod is placed on — the scheduler writes
/// `volume.kubernetes.io/selected-node` on it and binds the pod only once the claim is bound.
public struct VolumeBinding: Sendable {
    /// The verdict for one pod.
    public enum Check: Equatable, Sendable {
        /// No node can take the pod until its claims change; kube-scheduler's reason.
        case unschedulable(String)
        /// The node affinity terms of the pod's bound volumes, and the claims still waiting for a node.
        case ready(affinities: [[JSONValue]], waiting: [ObjectKey])
    }

    let claims: ObjectCache
    let volumes: ObjectCache
    let classes: ObjectCache

    public init(claims: ObjectCache, volumes: ObjectCache, classes: ObjectCache) {
        self.claims = claims
        self.volumes = volumes
        self.classes = classes
    }

    /// The pod's claims, judged.
    public func check(_ pod: JSONValue) -> Check {
        var affinities: [[JSONValue]] = []
        var waiting: [ObjectKey] = []
        for name in PersistentVolumeController.claimNames(ofPod: pod) {
            let key = ObjectKey(namespace: pod.metadataNamespace, name: name)
            guard let claim = claims.get(key) else { return .unschedulable("persistentvolumeclaim \"\(name)\" not found") }
            if claim.metadataDeletionTimestamp != nil { return .unschedulable("persistentvolumeclaim \"\(name)\" is being deleted") }
            let volumeName = claim[path: ["spec", "volumeName"]]?.stringValue ?? ""
            if !volumeName.isEmpty, claim[path: ["status", "phase"]]?.stringValue == "Bound" {
                guard let volume = volumes.get(ObjectKey(namespace: nil, name: volumeName)) else {
                    return .unschedulable("persistentvolume \"\(volumeName)\" not found")
                }
                if let terms = volume[path: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]]?.arrayValue { affinities.append(terms) }
                continue
            }
            let className = claim[path: ["spec", "storageClassName"]]?.stringValue
                ?? PersistentVolumeController.defaultClass(among: classes.list())?.metadataName ?? ""
            let mode = classes.get(ObjectKey(namespace: nil, name: className))?["volumeBindingMode"]?.stringValue
            guard mode == StorageNames.waitForFirstConsumer else { return .unschedulable("pod has unbound immediate PersistentVolumeClaims") }
            waiting.append(key)
        }
        return .ready(affinities: affinities, waiting: waiting)
    }
}
