import Synchronization
import VirtReconcile

/// Pods this scheduler bound whose binding the pod cache has not shown yet: their requests still count
/// against their node, so two quick decisions cannot overcommit it.
final class AssumedPods: Sendable {
    struct Placement: Sendable {
        var uid: String?
        var node: String
        var request: ResourceAmounts
    }

    private let placements = Mutex<[ObjectKey: Placement]>([:])

    func insert(_ key: ObjectKey, _ placement: Placement) {
        placements.withLock { $0[key] = placement }
    }

    func placement(_ key: ObjectKey) -> Placement? {
        placements.withLock { $0[key] }
    }

    func remove(_ key: ObjectKey) {
        placements.withLock { _ = $0.removeValue(forKey: key) }
    }

    func snapshot() -> [ObjectKey: Placement] {
        placements.withLock { $0 }
    }
}
