extension JSONValue {
    /// Applies a JSON merge patch (RFC 7386) to this value and returns the result.
    ///
    /// - An object patch is merged member by member: a `null` member deletes that member from the target,
    ///   any other member is merged recursively into the target's member (created when missing).
    /// - If the patch is an object and this value is not, this value is first replaced by `{}`.
    /// - Any non-object patch (including an array or `null`) replaces this value entirely.
    ///
    /// This is what `kubectl patch --type=merge`, `kubectl label` and client-side `kubectl apply` send,
    /// as `Content-Type: application/merge-patch+json`.
    public func applyingMergePatch(_ patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members = objectValue ?? [:]
        for (name, value) in patchMembers {
            if value == .null {
                members.removeValue(forKey: name)
            } else {
                // A missing member merges like a non-object: an object patch value starts from `{}` and
                // loses its own `null` members, anything else is taken as is.
                members[name] = (members[name] ?? .null).applyingMergePatch(value)
            }
        }
        return .object(members)
    }

    /// Computes a JSON merge patch (RFC 7386) that turns this value into `target`, so that
    /// `self.applyingMergePatch(self.creatingMergePatch(to: target)) == target`.
    ///
    /// Objects are diffed member by member: removed members become `null`, changed members are diffed
    /// recursively when both sides are objects and replaced otherwise, unchanged members are left out.
    /// When both values are equal objects the patch is `{}`. Anything that is not an object on both sides
    /// yields `target` itself (arrays are always replaced whole, as RFC 7386 has no array operations).
    ///
    /// A merge patch cannot express a member whose value is `null` (that means "delete"), so a `target`
    /// containing `null` members inside objects does not round-trip: those members end up absent.
    public func creatingMergePatch(to target: JSONValue) -> JSONValue {
        guard case .object(let source) = self, case .object(let destination) = target else { return target }
        var patch: [String: JSONValue] = [:]
        for name in source.keys where destination[name] == nil {
            patch[name] = .null
        }
        for (name, newValue) in destination {
            guard let oldValue = source[name] else {
                patch[name] = newValue
                continue
            }
            if oldValue == newValue { continue }
            patch[name] = oldValue.creatingMergePatch(to: newValue)
        }
        return .object(patch)
    }
}
