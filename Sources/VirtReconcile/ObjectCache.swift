import Synchronization
import VirtAPI

/// The local copy of one resource an ``Informer`` keeps: every object by namespace/name, as of the last
/// event seen. Reads are synchronous and cheap; reconcilers read from it instead of asking the server.
///
/// The informer is the only writer in production; tests seed it with ``upsert(_:)`` or ``replace(with:)``.
public final class ObjectCache: Sendable {
    private let objects = Mutex<[ObjectKey: JSONValue]>([:])

    public init(_ initial: [JSONValue] = []) {
        for object in initial { upsert(object) }
    }

    /// The object with this key.
    public func get(_ key: ObjectKey) -> JSONValue? {
        objects.withLock { $0[key] }
    }

    /// All objects (in one namespace when `namespace` is given), sorted by key.
    public func list(namespace: String? = nil) -> [JSONValue] {
        objects.withLock { all in
            all.filter { namespace == nil || $0.key.namespace == namespace }.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    /// The objects that satisfy `predicate`, sorted by key.
    public func list(where predicate: (JSONValue) -> Bool) -> [JSONValue] {
        objects.withLock { all in
            all.sorted { $0.key < $1.key }.map(\.value).filter(predicate)
        }
    }

    /// All keys, sorted.
    public var keys: [ObjectKey] { objects.withLock { $0.keys.sorted() } }

    /// How many objects the cache holds.
    public var count: Int { objects.withLock { $0.count } }

    /// Stores an object; returns the one it replaced.
    @discardableResult
    public func upsert(_ object: JSONValue) -> JSONValue? {
        guard let key = ObjectKey(object: object) else { return nil }
        return objects.withLock { $0.updateValue(object, forKey: key) }
    }

    /// Removes an object; returns it.
    @discardableResult
    public func remove(_ key: ObjectKey) -> JSONValue? {
        objects.withLock { $0.removeValue(forKey: key) }
    }

    /// Replaces the whole content (after a list) and returns what changed: objects that are new, whose
    /// `resourceVersion` differs, or that are gone.
    @discardableResult
    public func replace(with items: [JSONValue]) -> [InformerEvent] {
        var incoming: [ObjectKey: JSONValue] = [:]
        for item in items {
            if let key = ObjectKey(object: item) { incoming[key] = item }
        }
        let old = objects.withLock { current in
            let previous = current
            current = incoming
            return previous
        }
        var events: [InformerEvent] = []
        for (key, object) in incoming.sorted(by: { $0.key < $1.key }) {
            if let before = old[key] {
                if before.metadataResourceVersion != object.metadataResourceVersion || before != object {
                    events.append(InformerEvent(kind: .modified, object: object, oldObject: before))
                }
            } else {
                events.append(InformerEvent(kind: .added, object: object))
            }
        }
        for (key, object) in old.sorted(by: { $0.key < $1.key }) where incoming[key] == nil {
            events.append(InformerEvent(kind: .deleted, object: object))
        }
        return events
    }
}
