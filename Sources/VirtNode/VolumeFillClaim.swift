import VirtAPI
import VirtReconcile

/// A claim this node is to fill now — by an import (``VolumeImportHandler``) or a clone
/// (``VolumeCloneHandler``) — with what the fill reads from it.
struct VolumeFillClaim {
    /// The claim as the cache holds it.
    var object: JSONValue
    var uid: String
    /// The volume the claim is bound to, which this node holds.
    var volume: PersistentVolume

    /// One of the claim's annotations.
    func annotation(_ name: String) -> String? { object[path: ["metadata", "annotations", name]]?.stringValue }

    /// What a handler does with a claim it was woken for.
    enum Decision {
        /// Fill it now.
        case fill(VolumeFillClaim)
        /// Not this node's to fill, not yet bound here, or filled already: nothing to do.
        case skip
        /// Its last fill failed and its back-off is not over.
        case wait(ReconcileResult)

        /// What the reconcile returns when it does not fill the claim now.
        var result: ReconcileResult {
            if case .wait(let result) = self { return result }
            return .done
        }
    }

    /// Whether this node should fill claim `key` now: the claim is there, not being deleted, asks for a
    /// fill (`wants`), has not ended (`Succeeded` or `Failed`), is bound to a volume this node holds, was
    /// not taken by another node, and is not waiting out a retry's back-off.
    static func decide(_ key: ObjectKey, claims: ObjectCache, volumes: ObjectCache, nodeName: String, retries: ImportRetrySchedule,
                       wants: (JSONValue) -> Bool) throws -> Decision {
        guard let object = claims.get(key), let uid = object.metadataUID, object.metadataDeletionTimestamp == nil, wants(object)
        else { return .skip }
        let annotation = { (name: String) in object[path: ["metadata", "annotations", name]]?.stringValue }
        let podPhase = annotation(CDINames.Annotation.podPhase)
        guard podPhase != CDINames.PodPhase.succeeded, podPhase != CDINames.PodPhase.failed else { return .skip }
        guard object[path: ["status", "phase"]]?.stringValue == "Bound", let volumeName = object[path: ["spec", "volumeName"]]?.stringValue,
              let volumeObject = volumes.get(ObjectKey(namespace: nil, name: volumeName))
        else { return .skip }
        let volume: PersistentVolume = try volumeObject.decoded()
        guard VolumeDirectories.holds(volume, nodeName: nodeName) else { return .skip }
        if let taker = annotation(VolumeImportHandler.importNodeAnnotation), !taker.isEmpty, taker != nodeName { return .skip }
        if let at = retries.time(of: uid), at > .now { return .wait(.requeue(after: at - .now)) }
        return .fill(VolumeFillClaim(object: object, uid: uid, volume: volume))
    }
}
