/// Level-based reconciliation of one object: read the object and whatever it depends on from informer
/// caches, compare with what should be, act, and say when to look again.
///
/// A ``Controller`` never calls `reconcile` for the same key on two workers at once. Throwing retries the
/// key with exponential back-off; throwing a ``TerminalError`` does not retry.
public protocol Reconciler: Sendable {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult
}

/// What a reconcile asks of its controller.
public enum ReconcileResult: Sendable, Equatable {
    /// Nothing more until something changes.
    case done
    /// Look again after this delay, even if nothing changes (a back-off timer, a timeout).
    case requeue(after: Duration)

    /// The shorter of two results' requeue delays (`done` if neither asks for one).
    public func merged(with other: ReconcileResult) -> ReconcileResult {
        switch (self, other) {
        case (.done, let result), (let result, .done): result
        case (.requeue(let a), .requeue(let b)): .requeue(after: min(a, b))
        }
    }
}
