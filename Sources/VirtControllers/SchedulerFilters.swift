import VirtAPI
import VirtReconcile

/// The scheduler's filters: pure functions from a pod (with its effective requests) and a node to the
/// reasons the node cannot take the pod (empty: it can). The reasons read as kube-scheduler writes them,
/// so `0/3 nodes are available: …` messages look familiar. Each filter stands alone so later work can
/// add node affinity weights, pod (anti-)affinity and preferred terms as further filters and scores.
public enum SchedulerFilters {
    /// One filter.
    public typealias Filter = @Sendable (_ pod: Pod, _ request: ResourceAmounts, _ node: NodeInfo) -> [String]

    /// Every filter, in the order they run.
    public static let all: [Filter] = [nodeReady, nodeUnschedulable, nodeSelector, nodeAffinity, taints, resources]

    /// The node's `Ready` condition must be `True`.
    public static let nodeReady: Filter = { _, _, node in
        let ready = node.node.status?.conditions?.first { $0.type == "Ready" }
        return ready?.status == "True" ? [] : ["node(s) were not ready"]
    }

    /// A cordoned node (`spec.unschedulable`) only takes pods that tolerate
    /// `node.kubernetes.io/unschedulable:NoSchedule`.
    public static let nodeUnschedulable: Filter = { pod, _, node in
        guard node.node.spec?.unschedulable == true else { return [] }
        let taint = Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule")
        return Toleration.of(pod).contains { $0.tolerates(taint) } ? [] : ["node(s) were unschedulable"]
    }

    /// Every `spec.nodeSelector` label must be on the node.
    public static let nodeSelector: Filter = { pod, _, node in
        let labels = node.node.metadata?.labels ?? [:]
        for (key, value) in pod.spec?.nodeSelector ?? [:] where labels[key] != value {
            return ["node(s) didn't match Pod's node affinity/selector"]
        }
        return []
    }

    /// `affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`: one of its terms must
    /// match the node's labels (or, for `matchFields`, its name).
    public static let nodeAffinity: Filter = { pod, _, node in
        guard let required = pod.spec?.affinity?[path: ["nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]],
              let terms = required["nodeSelectorTerms"]?.arrayValue
        else { return [] }
        let labels = node.node.metadata?.labels ?? [:]
        let fields = ["metadata.name": node.name]
        let matches = terms.contains { term in
            let expressions = term["matchExpressions"]?.arrayValue ?? []
            let fieldExpressions = term["matchFields"]?.arrayValue ?? []
            if expressions.isEmpty, fieldExpressions.isEmpty { return false }
            return expressions.allSatisfy { requirementMatches($0, labels) } && fieldExpressions.allSatisfy { requirementMatches($0, fields) }
        }
        return matches ? [] : ["node(s) didn't match Pod's node affinity/selector"]
    }

    /// Taints with effect `NoSchedule` or `NoExecute` must be tolerated.
    public static let taints: Filter = { pod, _, node in
        let tolerations = Toleration.of(pod)
        for taint in node.node.spec?.taints ?? [] where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !tolerations.contains(where: { $0.tolerates(taint) }) {
                return ["node(s) had untolerated taint {\(taint.key): \(taint.value ?? "")}"]
            }
        }
        return []
    }

    /// Each requested resource must fit in what is allocatable minus what bound pods request; the pod
    /// count must stay within `allocatable.pods`.
    public static let resources: Filter = { _, request, node in
        let allocatable = node.allocatable
        var reasons: [String] = []
        if let pods = allocatable.milli["pods"], Int64(node.podCount + 1) * 1000 > pods {
            reasons.append("Too many pods")
        }
        for (name, amount) in request.milli.sorted(by: { $0.key < $1.key }) where amount > 0 && name != "pods" {
            if node.requested[name] + amount > allocatable[name] {
                reasons.append("Insufficient \(name)")
            }
        }
        return reasons
    }

    /// Among nodes that fit, higher is better: the memory left free after placing the pod.
    public static func score(request: ResourceAmounts, node: NodeInfo) -> Int64 {
        node.allocatable["memory"] - node.requested["memory"] - request["memory"]
    }

    /// kube-scheduler's message when no node fits: `0/3 nodes are available: 1 Insufficient memory,
    /// 2 node(s) didn't match Pod's node affinity/selector.` (reasons counted per node and sorted).
    public static func failureMessage(nodeCount: Int, reasons: [String: Int]) -> String {
        if nodeCount == 0 { return "no nodes available to schedule pods" }
        let parts = reasons.map { "\($0.value) \($0.key)" }.sorted()
        return "0/\(nodeCount) nodes are available: \(parts.joined(separator: ", "))."
    }

    /// Runs every filter on every node: the nodes that fit, best first, or the failure message.
    public static func place(_ pod: Pod, request: ResourceAmounts, nodes: [NodeInfo], filters: [Filter] = all) -> Result<[String], Unschedulable> {
        var reasons: [String: Int] = [:]
        var feasible: [NodeInfo] = []
        for node in nodes {
            var nodeReasons: [String] = []
            for filter in filters {
                nodeReasons = filter(pod, request, node)
                if !nodeReasons.isEmpty { break }
            }
            if nodeReasons.isEmpty {
                feasible.append(node)
            } else {
                for reason in nodeReasons { reasons[reason, default: 0] += 1 }
            }
        }
        guard !feasible.isEmpty else {
            return .failure(Unschedulable(message: failureMessage(nodeCount: nodes.count, reasons: reasons)))
        }
        let ranked = feasible.sorted { a, b in
            let (sa, sb) = (score(request: request, node: a), score(request: request, node: b))
            return sa != sb ? sa > sb : a.name < b.name
        }
        return .success(ranked.map(\.name))
    }

    /// Why a pod fits nowhere.
    public struct Unschedulable: Error, Sendable, Equatable {
        public var message: String

        public init(message: String) {
            self.message = message
        }
    }

    /// Whether one of a node selector's terms matches a node (`matchExpressions` on its labels,
    /// `matchFields` on `metadata.name`), as a PersistentVolume's node affinity is read.
    public static func nodeNameMatches(terms: [JSONValue], nodeName: String, labels: [String: String]) -> Bool {
        let fields = ["metadata.name": nodeName]
        return terms.contains { term in
            let expressions = term["matchExpressions"]?.arrayValue ?? []
            let fieldExpressions = term["matchFields"]?.arrayValue ?? []
            if expressions.isEmpty, fieldExpressions.isEmpty { return false }
            return expressions.allSatisfy { requirementMatches($0, labels) } && fieldExpressions.allSatisfy { requirementMatches($0, fields) }
        }
    }

    /// The node affinity of the volumes bound to a pod's claims (`spec.nodeAffinity.required` of each):
    /// every one must match the node.
    public static func volumeNodeAffinity(_ selectors: [[JSONValue]]) -> Filter {
        { _, _, node in
            let labels = node.node.metadata?.labels ?? [:]
            for terms in selectors where !nodeNameMatches(terms: terms, nodeName: node.name, labels: labels) {
                return ["node(s) had volume node affinity conflict"]
            }
            return []
        }
    }

    static func requirementMatches(_ requirement: JSONValue, _ labels: [String: String]) -> Bool {
        guard let key = requirement["key"]?.stringValue, let op = requirement["operator"]?.stringValue else { return false }
        let values = requirement["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let value = labels[key]
        switch op {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let value, let actual = Int64(value), values.count == 1, let bound = Int64(values[0]) else { return false }
            return op == "Gt" ? actual > bound : actual < bound
        default: return false
        }
    }
}
