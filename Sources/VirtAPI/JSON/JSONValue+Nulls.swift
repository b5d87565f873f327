extension JSONValue {
    /// The value with every object member whose value is `null` removed, at any depth (inside arrays too).
    ///
    /// What the API server does to a body before it stores it: no field of a served kind is nullable, so a
    /// `null` means the field is absent, as Kubernetes prunes nulls of schema'd fields. Array elements
    /// that are `null` themselves stay (validation names them).
    public func droppingNullMembers() -> JSONValue {
        switch self {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            kept.reserveCapacity(members.count)
            for (name, value) in members where value != .null {
                kept[name] = value.droppingNullMembers()
            }
            return .object(kept)
        case .array(let items):
            return .array(items.map { $0.droppingNullMembers() })
        default:
            return self
        }
    }

    /// Whether any object member at any depth is `null` (so `droppingNullMembers` would change the value).
    public var hasNullMembers: Bool {
        switch self {
        case .object(let members):
            members.values.contains { $0 == .null || $0.hasNullMembers }
        case .array(let items):
            items.contains { $0.hasNullMembers }
        default:
            false
        }
    }
}
