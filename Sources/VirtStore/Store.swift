import VirtAPI
import VirtError

/// Where an object lives in the store: `resource` is `group/plural` (core group: `/plural`), `namespace` is
/// empty for cluster-scoped kinds.
public struct StoreKey: Hashable, Sendable, CustomStringConvertible {
    public var resource: String
    public var namespace: String
    public var name: String

    public init(resource: String, namespace: String, name: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.isEmpty ? "\(resource)/\(name)" : "\(resource)/\(namespace)/\(name)" }
}

/// An object as stored: its JSON (with `metadata.resourceVersion` set) and the revision of its last write.
public struct StoredObject: Sendable {
    public var key: StoreKey
    public var revision: Int64
    public var object: JSONValue
    /// `object` as compact JSON with sorted keys, when the store has it at hand after a write: an answer
    /// can send it instead of serializing the object again.
    public var objectJSON: String?

    public init(key: StoreKey, revision: Int64, object: JSONValue, objectJSON: String? = nil) {
        self.key = key
        self.revision = revision
        self.object = object
        self.objectJSON = objectJSON
    }
}

/// A check a create makes, inside its own transaction, on another object: that the namespace it is created
/// in exists and is not being deleted. Nothing is written when `check` throws.
public struct StorePrecondition: Sendable {
    public var key: StoreKey
    /// Given the object at `key` (nil when there is none); throws to refuse the create.
    public var check: @Sendable (JSONValue?) throws -> Void

    public init(key: StoreKey, check: @escaping @Sendable (JSONValue?) throws -> Void) {
        self.key = key
        self.check = check
    }
}

/// One change, as a watch delivers it.
public struct StoreEvent: Sendable {
    public enum Kind: Int, Sendable {
        case added = 0
        case modified = 1
        case deleted = 2
    }

    public var kind: Kind
    public var key: StoreKey
    public var revision: Int64
    /// The object after the change; for `deleted`, its last state stamped with the deletion's revision.
    public var object: JSONValue
    /// The object before the change, when the store still has it (live events).
    public var previous: JSONValue?
    /// `object` as compact JSON, when the store has it at hand: watchers share it instead of each
    /// serializing the object again.
    public var objectJSON: String?

    public init(kind: Kind, key: StoreKey, revision: Int64, object: JSONValue, previous: JSONValue? = nil, objectJSON: String? = nil) {
        self.kind = kind
        self.key = key
        self.revision = revision
        self.object = object
        self.previous = previous
        self.objectJSON = objectJSON
    }
}

/// What to read or watch: a resource, optionally narrowed to one namespace and one name.
public struct StoreScope: Sendable, Equatable {
    public var resource: String
    public var namespace: String?
    public var name: String?

    public init(resource: String, namespace: String? = nil, name: String? = nil) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    /// `nil` resource matches every resource (used by the garbage collector).
    public static let everything = StoreScope(resource: "")

    public func contains(_ key: StoreKey) -> Bool {
        if !resource.isEmpty, key.resource != resource { return false }
        if let namespace, key.namespace != namespace { return false }
        if let name, key.name != name { return false }
        return true
    }
}

/// One page of a list.
public struct StoreListPage: Sendable {
    public var items: [StoredObject]
    /// The store's revision when the list was read.
    public var revision: Int64
    /// Where the next page starts (`namespace/name` of the last item) when the page was cut by `limit`.
    public var continueAfter: StoreKey?
}

/// The storage protocol every API handler talks to: the etcd model.
///
/// One global revision counts every write. Each object's `metadata.resourceVersion` is the revision of its
/// last write. Writes compare-and-swap on it. A watch from revision R delivers every later event in order;
/// history older than the compaction point is gone (`VirtError.Code.gone`).
public protocol RevisionedStore: Sendable {
    /// The newest revision.
    func currentRevision() async throws -> Int64
    func get(_ key: StoreKey) async throws -> StoredObject?
    /// Lists objects in `scope`, ordered by namespace and name, after `startAfter`, keeping those `filter`
    /// accepts, at most `limit` (0: all). `StoreScope.everything` lists every resource (ordered by resource
    /// first), all read at the one revision the page reports.
    func list(_ scope: StoreScope, startAfter: StoreKey?, limit: Int, filter: (@Sendable (JSONValue) -> Bool)?) async throws -> StoreListPage
    /// Creates; fails with `exists` when the key is taken, or with what `precondition` throws.
    func create(_ key: StoreKey, object: JSONValue, precondition: StorePrecondition?) async throws -> StoredObject
    /// Replaces; when `expectedRevision` is given and differs from the stored one, fails with `conflict`.
    func update(_ key: StoreKey, object: JSONValue, expectedRevision: Int64?) async throws -> StoredObject
    /// Deletes; returns the last state stamped with the deletion's revision.
    func delete(_ key: StoreKey, expectedRevision: Int64?) async throws -> StoredObject
    /// Every event in `scope` after `revision`, then live ones, handed to `deliver` one by one in revision
    /// order on whatever thread publishes them (history before this returns), until the registration is
    /// cancelled. `deliver` must not block: it runs while the store holds its watchers' lock. A watch with
    /// many watchers costs no task per event.
    func watch(_ scope: StoreScope, afterRevision revision: Int64,
               deliver: @escaping @Sendable (StoreEvent) -> Void) async throws -> StoreWatchRegistration
    /// Forgets history at or before `revision`; a later watch from before it gets `gone`.
    func compact(toRevision revision: Int64) async throws
    /// The oldest revision a watch can resume from.
    func compactedRevision() async throws -> Int64
}

/// A live callback watch; `cancel` stops its deliveries (those already running finish).
public final class StoreWatchRegistration: Sendable {
    private let onCancel: @Sendable () -> Void

    public init(cancel: @escaping @Sendable () -> Void) {
        onCancel = cancel
    }

    public func cancel() { onCancel() }
}

extension RevisionedStore {
    /// The same events as a stream, until the consumer stops.
    public func watch(_ scope: StoreScope, afterRevision revision: Int64) async throws -> AsyncThrowingStream<StoreEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<StoreEvent, any Error>.makeStream()
        let registration = try await watch(scope, afterRevision: revision) { continuation.yield($0) }
        continuation.onTermination = { _ in registration.cancel() }
        return stream
    }

    /// Creates, with no precondition.
    public func create(_ key: StoreKey, object: JSONValue) async throws -> StoredObject {
        try await create(key, object: object, precondition: nil)
    }
}

extension JSONValue {
    /// Sets `metadata.resourceVersion`.
    func stamped(revision: Int64) -> JSONValue {
        var copy = self
        copy[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return copy
    }
}
