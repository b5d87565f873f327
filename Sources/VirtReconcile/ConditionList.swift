import VirtAPI

/// Edits a list of status conditions the way Kubernetes controllers do: one condition per type, and
/// `lastTransitionTime` kept unless `status` changes, so writing the same state twice changes nothing.
public struct ConditionList: Sendable, Equatable {
    public var conditions: [Condition]

    public init(_ conditions: [Condition]?) {
        self.conditions = conditions ?? []
    }

    /// The condition of a type.
    public func get(_ type: String) -> Condition? {
        conditions.first { $0.type == type }
    }

    /// Whether a condition of the type has this status.
    public func has(_ type: String, status: String, reason: String? = nil) -> Bool {
        guard let condition = get(type), condition.status == status else { return false }
        return reason == nil || condition.reason == reason
    }

    /// Sets a condition; `now` becomes its `lastTransitionTime` when its status changes (or when it is new).
    public mutating func set(_ condition: Condition, now: String) {
        var condition = condition
        if let index = conditions.firstIndex(where: { $0.type == condition.type }) {
            let old = conditions[index]
            if condition.lastTransitionTime == nil {
                condition.lastTransitionTime = old.status == condition.status ? old.lastTransitionTime : now
            }
            if condition.lastProbeTime == nil { condition.lastProbeTime = old.status == condition.status ? old.lastProbeTime : nil }
            conditions[index] = condition
        } else {
            if condition.lastTransitionTime == nil { condition.lastTransitionTime = now }
            conditions.append(condition)
        }
    }

    /// Removes the condition of a type.
    public mutating func remove(_ type: String) {
        conditions.removeAll { $0.type == type }
    }

    /// The list, or `nil` when empty (so an empty list is not written).
    public var value: [Condition]? { conditions.isEmpty ? nil : conditions }
}
