import VirtAPI
import VirtReconcile

/// A Kubernetes `Toleration` (pods keep them opaque; the scheduler reads them here).
public struct Toleration: Codable, Sendable, Equatable {
    public var key: String?
    /// `Exists` or `Equal` (the default).
    public var `operator`: String?
    public var value: String?
    /// `NoSchedule`, `PreferNoSchedule`, `NoExecute`, or empty for all effects.
    public var effect: String?
    public var tolerationSeconds: Int64?

    public init(key: String? = nil, operator: String? = nil, value: String? = nil, effect: String? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
    }

    /// Whether this toleration tolerates a taint (Kubernetes' `ToleratesTaint`).
    public func tolerates(_ taint: Taint) -> Bool {
        if let effect, !effect.isEmpty, effect != taint.effect { return false }
        let key = self.key ?? ""
        let op = self.operator ?? "Equal"
        if key.isEmpty {
            return op == "Exists"
        }
        if key != taint.key { return false }
        switch op {
        case "Exists": return true
        case "Equal", "": return (value ?? "") == (taint.value ?? "")
        default: return false
        }
    }

    /// The tolerations of a pod (entries that do not decode are skipped).
    public static func of(_ pod: Pod) -> [Toleration] {
        (pod.spec?.tolerations ?? []).compactMap { try? $0.decoded(as: Toleration.self) }
    }
}
