import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// Binds pending pods to nodes (kube-scheduler's job, reduced to what one machine or a small cluster
/// needs now): a pod whose `spec.nodeName` is empty and whose `schedulerName` is ours goes to the node
/// that passes every ``SchedulerFilters`` filter and keeps the most memory free.
///
/// Binding sets `spec.nodeName` with a merge patch carrying the pod's `resourceVersion` as a
/// precondition (SwiftVirt's server lets the scheduler write `spec.nodeName` directly; Kubernetes would
/// want a `pods/binding` subresource), then sets the pod's `PodScheduled` condition to `True` and records
/// a `Scheduled` event. When no node fits, the condition becomes `False` with reason `Unschedulable` and
/// kube-scheduler's message (`0/1 nodes are available: 1 Insufficient memory.`), a `FailedScheduling`
/// event is recorded, and the pod is tried again when nodes or pods change, or after ``retryInterval``.
///
/// Run it with one worker: decisions are made one pod at a time against the node usage the cache shows
/// plus the pods this scheduler has bound but the cache has not caught up with ("assumed" pods).
public struct Scheduler: Reconciler {
    /// The scheduler name pods select by default.
    public static let defaultName = "default-scheduler"
    /// How often an unschedulable pod is tried again without any change.
    public static let retryInterval: Duration = .seconds(30)

    let client: any APIClient
    let pods: ObjectCache
    let nodes: ObjectCache
    let recorder: EventRecorder
    let schedulerName: String
    let now: @Sendable () -> Date
    let logger: Logger
    let assumed = AssumedPods()
    /// The pods' PersistentVolumeClaims (`nil`: pods with claims are placed as if they had none).
    let volumeBinding: VolumeBinding?

    public init(
        client: any APIClient, pods: ObjectCache, nodes: ObjectCache, recorder: EventRecorder,
        schedulerName: String = Scheduler.defaultName, volumeBinding: VolumeBinding? = nil,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.client = client
        self.volumeBinding = volumeBinding
        self.pods = pods
        self.nodes = nodes
        self.recorder = recorder
        self.schedulerName = schedulerName
        self.now = now
        self.logger = logger
    }

    /// Whether a pod waits for this scheduler: unbound, not deleted, not finished, and naming this
    /// scheduler (or none, which means `default-scheduler`).
    public static func isPending(_ object: JSONValue, schedulerName: String = Scheduler.defaultName) -> Bool {
        let nodeName = object[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let name = object[path: ["spec", "schedulerName"]]?.stringValue ?? ""
        let phase = object[path: ["status", "phase"]]?.stringValue
        return nodeName.isEmpty && object.metadataDeletionTimestamp == nil && phase != "Succeeded" && phase != "Failed"
            && (name == schedulerName || (name.isEmpty && schedulerName == Scheduler.defaultName))
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = pods.get(key) else {
            assumed.remove(key)
            return .done
        }
        guard Scheduler.isPending(object, schedulerName: schedulerName) else { return .done }
        if let placement = assumed.placement(key), placement.uid == object.metadataUID {
            return .done  // bound already; the cache has not caught up
        }
        let pod: Pod
        do {
            pod = try object.decoded()
        } catch {
            throw TerminalError("pod \(key) does not decode", cause: error)
        }
        let request = PodResources.requests(of: pod)
        var filters = SchedulerFilters.all
        var waiting: [ObjectKey] = []
        switch volumeBinding?.check(object) {
        case .unschedulable(let reason)?:
            let count = nodes.list().count
            try await markUnschedulable(object, message: "0/\(count) nodes are available: \(reason).")
            return .requeue(after: Scheduler.retryInterval)
        case .ready(let affinities, let unbound)?:
            if !affinities.isEmpty { filters.append(SchedulerFilters.volumeNodeAffinity(affinities)) }
            waiting = unbound
        case nil:
            break
        }
        switch SchedulerFilters.place(pod, request: request, nodes: nodeInfos(), filters: filters) {
        case .success(let ranked):
            guard let node = ranked.first else { return .done }
            if !waiting.isEmpty {
                // Provisioning first (the claims' controller makes the volumes on `node`); the pod binds
                // once its claims are bound, when their volumes' node affinity keeps it on that node.
                try await selectNode(node, for: waiting)
                return .requeue(after: .seconds(1))
            }
            try await bind(object, key: key, to: node, request: request)
            return .done
        case .failure(let unschedulable):
            try await markUnschedulable(object, message: unschedulable.message)
            return .requeue(after: Scheduler.retryInterval)
        }
    }

    /// Writes `volume.kubernetes.io/selected-node` on claims that wait for their first consumer.
    func selectNode(_ node: String, for claims: [ObjectKey]) async throws(VirtError) {
        for key in claims {
            let path = StorageNames.claims.inNamespace(key.namespace).named(key.name)
            _ = try await client.patch(path, mergePatch: ["metadata": ["annotations": [StorageNames.selectedNodeAnnotation: .string(node)]]])
            logger.info("selected node for claim", metadata: ["claim": "\(key)", "node": "\(node)"])
        }
    }

    /// Every node with the requests of the pods on it (cached and assumed).
    func nodeInfos() -> [NodeInfo] {
        var infos: [String: NodeInfo] = [:]
        for object in nodes.list() {
            guard let node = try? object.decoded(as: Node.self), let name = node.metadata?.name else { continue }
            infos[name] = NodeInfo(node: node)
        }
        for object in pods.list() {
            guard let pod = try? object.decoded(as: Pod.self), PodResources.occupiesNode(pod), let name = pod.spec?.nodeName else { continue }
            infos[name]?.requested.add(PodResources.requests(of: pod))
            infos[name]?.podCount += 1
        }
        for (key, placement) in assumed.snapshot() {
            // Once the cache shows the binding (or the pod is gone) the assumption is no longer needed.
            guard let cached = pods.get(key), cached.metadataUID == placement.uid,
                  (cached[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty
            else {
                assumed.remove(key)
                continue
            }
            infos[placement.node]?.requested.add(placement.request)
            infos[placement.node]?.podCount += 1
        }
        return infos.values.sorted { $0.name < $1.name }
    }

    func bind(_ object: JSONValue, key: ObjectKey, to node: String, request: ResourceAmounts) async throws(VirtError) {
        let path = KubeVirt.pods.inNamespace(key.namespace).named(key.name)
        var patch: JSONValue = ["spec": ["nodeName": .string(node)]]
        if let version = object.metadataResourceVersion { patch[path: ["metadata", "resourceVersion"]] = .string(version) }
        var bound = try await client.patch(path, mergePatch: patch)
        assumed.insert(key, AssumedPods.Placement(uid: object.metadataUID, node: node, request: request))
        logger.info("bound pod", metadata: ["pod": "\(key)", "node": "\(node)"])
        await recorder.record(bound, .normal, reason: "Scheduled", message: "Successfully assigned \(key) to \(node)")

        // The binding stands; the condition is bookkeeping, retried briefly on conflicts.
        for attempt in 0..<3 {
            do {
                if attempt > 0 { bound = try await client.get(path) }
                let updated = try withPodScheduled(bound, status: "True", reason: nil, message: nil)
                if updated != bound { _ = try await client.updateStatus(path, body: updated) }
                return
            } catch where error.code == .conflict {
                continue
            } catch {
                logger.warning("could not set PodScheduled", metadata: ["pod": "\(key)", "error": "\(error)"])
                return
            }
        }
    }

    func markUnschedulable(_ object: JSONValue, message: String) async throws(VirtError) {
        let updated = try withPodScheduled(object, status: "False", reason: "Unschedulable", message: message)
        guard updated != object else { return }
        guard let key = ObjectKey(object: object) else { return }
        let path = KubeVirt.pods.inNamespace(key.namespace).named(key.name)
        let written = try await client.updateStatus(path, body: updated)
        logger.info("pod unschedulable", metadata: ["pod": "\(key)", "message": "\(message)"])
        await recorder.record(written, .warning, reason: "FailedScheduling", message: message)
    }

    /// The pod with its `PodScheduled` condition set (transition time kept when the status is unchanged).
    func withPodScheduled(_ object: JSONValue, status: String, reason: String?, message: String?) throws(VirtError) -> JSONValue {
        let pod: Pod = try object.decoded()
        let old = pod.status ?? PodStatus()
        var new = old
        var conditions = ConditionList(old.conditions)
        let existing = conditions.get(KubeVirt.ConditionType.podScheduled)
        if existing?.status == status, existing?.reason == reason, existing?.message == message { return object }
        conditions.set(Condition(type: KubeVirt.ConditionType.podScheduled, status: status, reason: reason, message: message),
                       now: KubeTime.format(now()))
        new.conditions = conditions.value
        if new.phase == nil { new.phase = "Pending" }
        return try object.replacingStatus(from: old, to: new)
    }
}
