/// How deleting an owner treats its dependents (`DeleteOptions.propagationPolicy`).
public enum PropagationPolicy: String, Sendable, Equatable, CaseIterable {
    /// Delete the owner now; the garbage collector deletes dependents afterwards.
    case background = "Background"
    /// Keep the owner (with a `foregroundDeletion` finalizer) until its blocking dependents are gone.
    case foreground = "Foreground"
    /// Delete the owner and leave its dependents.
    case orphan = "Orphan"
}
