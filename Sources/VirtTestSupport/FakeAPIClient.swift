import Foundation
import Synchronization
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// An in-memory API server with the Kubernetes semantics controllers rely on: resourceVersion
/// preconditions, status subresources, finalizers and `deletionTimestamp`, background garbage collection
/// of owned objects, and watches that replay from a revision (410 once compacted).
package final class FakeAPIClient: APIClient {
    package struct Key: Hashable, Comparable {
        package var group: String
        package var resource: String
        package var namespace: String
        package var name: String

        package static func < (a: Key, b: Key) -> Bool {
            (a.group, a.resource, a.namespace, a.name) < (b.group, b.resource, b.namespace, b.name)
        }
    }

    package struct Recorded: Sendable {
        package var revision: Int64
        package var key: Key
        package var type: WatchEvent.EventType
        package var object: JSONValue
    }

    package struct Watcher {
        package var group: String
        package var resource: String
        package var namespace: String?
        package var continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation
    }

    package struct State {
        package var objects: [Key: JSONValue] = [:]
        package var revision: Int64 = 100
        package var history: [Recorded] = []
        package var compactedThrough: Int64 = 0
        package var watchers: [Int: Watcher] = [:]
        package var nextWatcher = 0
        package var log: [String] = []
        package var injected: [(verb: String, resource: String, error: VirtError)] = []
        package var uids = 0
    }

    package let state = Mutex(State())
    package let now: @Sendable () -> Date

    package init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    // MARK: - Test helpers

    /// Stores an object as-is (status included), stamping uid, resourceVersion and timestamps when absent.
    @discardableResult
    package func seed(_ path: ResourcePath, _ object: JSONValue) -> JSONValue {
        state.withLock { state in
            var object = object
            let key = Self.key(path, name: object.metadataName ?? "")
            if let namespace = path.namespace { object[path: ["metadata", "namespace"]] = .string(namespace) }
            if object.metadataUID == nil { object[path: ["metadata", "uid"]] = .string(Self.nextUID(&state)) }
            if object[path: ["metadata", "creationTimestamp"]] == nil {
                object[path: ["metadata", "creationTimestamp"]] = .string(KubeTime.format(now()))
            }
            if object.metadataGeneration == nil { object[path: ["metadata", "generation"]] = 1 }
            return Self.store(&state, key, object, type: state.objects[key] == nil ? .added : .modified)
        }
    }

    package func object(_ path: ResourcePath) -> JSONValue? {
        state.withLock { $0.objects[Self.key(path, name: path.name ?? "")] }
    }

    package func objects(_ path: ResourcePath) -> [JSONValue] {
        state.withLock { state in
            state.objects.filter { Self.matches($0.key, path) }.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    /// Events recorded (core/v1 Event objects), oldest first.
    package func events(reason: String? = nil) -> [JSONValue] {
        objects(ResourcePath.core("events")).filter { reason == nil || $0["reason"]?.stringValue == reason }
            .sorted { ($0.metadataResourceVersion.flatMap { Int64($0) } ?? 0) < ($1.metadataResourceVersion.flatMap { Int64($0) } ?? 0) }
    }

    /// Requests made, as `VERB resource[/name][/subresource]`.
    package var log: [String] { state.withLock { $0.log } }

    package func clearLog() { state.withLock { $0.log.removeAll() } }

    /// Makes the next request with this verb (`GET`, `LIST`, `POST`, `PUT`, `PATCH`, `DELETE`) on this
    /// resource fail.
    package func failNext(_ verb: String, _ resource: String, _ error: VirtError) {
        state.withLock { $0.injected.append((verb, resource, error)) }
    }

    /// Forgets history up to now: watches from older versions get 410 Expired.
    package func compact() {
        state.withLock { $0.compactedThrough = $0.revision }
    }

    /// Ends every open watch, as a server does when its watch timeout passes.
    package func closeWatches() {
        let watchers = state.withLock { state in
            let all = state.watchers
            state.watchers.removeAll()
            return all
        }
        for watcher in watchers.values { watcher.continuation.finish() }
    }

    package var openWatches: Int { state.withLock { $0.watchers.count } }

    // MARK: - APIClient

    package func get(_ path: ResourcePath) async throws(VirtError) -> JSONValue {
        try state.withLock { state throws(VirtError) in
            try Self.inject(&state, "GET", path)
            guard let object = state.objects[Self.key(path, name: path.name ?? "")] else { throw Self.notFound(path) }
            return object
        }
    }

    package func list(_ path: ResourcePath, labelSelector: String?, fieldSelector: String?) async throws(VirtError) -> JSONValue {
        try state.withLock { state throws(VirtError) in
            try Self.inject(&state, "LIST", path)
            let selector = try LabelSelector(parsing: labelSelector ?? "")
            let items = state.objects.filter { Self.matches($0.key, path) && selector.matches($0.value.metadataLabels) }
                .sorted { $0.key < $1.key }.map(\.value)
            return ["kind": "List", "apiVersion": .string(path.apiVersion), "metadata": ["resourceVersion": .string(String(state.revision))],
                    "items": .array(items)]
        }
    }

    package func create(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue {
        try state.withLock { state throws(VirtError) in
            try Self.inject(&state, "POST", path)
            var object = body
            var name = object.metadataName ?? ""
            if name.isEmpty, let prefix = object[path: ["metadata", "generateName"]]?.stringValue {
                name = prefix + String(Self.nextUID(&state).suffix(5))
                object[path: ["metadata", "name"]] = .string(name)
            }
            let key = Self.key(path, name: name)
            if state.objects[key] != nil {
                throw VirtError(.exists, "\(path.resource) \"\(name)\" already exists")
            }
            if let namespace = path.namespace { object[path: ["metadata", "namespace"]] = .string(namespace) }
            object[path: ["metadata", "uid"]] = .string(Self.nextUID(&state))
            object[path: ["metadata", "creationTimestamp"]] = .string(KubeTime.format(now()))
            object[path: ["metadata", "generation"]] = 1
            object[path: ["metadata", "resourceVersion"]] = nil
            if !path.group.isEmpty { object["status"] = nil }
            return Self.store(&state, key, object, type: .added)
        }
    }

    package func update(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue {
        if path.subresource == "status" { return try await updateStatus(path.subresource(nil), body: body) }
        return try state.withLock { state throws(VirtError) in
            try Self.inject(&state, "PUT", path)
            let key = Self.key(path, name: path.name ?? "")
            guard let current = state.objects[key] else { throw Self.notFound(path) }
            try Self.checkVersion(body, current, path)
            var next = body
            Self.keepServerFields(&next, from: current)
            if Self.hasStatus(path) { next["status"] = current["status"] }
            return try Self.write(&state, key, current: current, next: next)
        }
    }

    package func updateStatus(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue {
        try state.withLock { state throws(VirtError) in
            try Self.inject(&state, "PUT", path.subresource("status"))
            let key = Self.key(path, name: path.name ?? "")
            guard let current = state.objects[key] else { throw Self.notFound(path) }
            try Self.checkVersion(body, current, path)
            var next = current
            next["status"] = body["status"]
            return try Self.write(&state, key, current: current, next: next)
        }
    }

    package func patch(_ path: ResourcePath, mergePatch: JSONValue) async throws(VirtError) -> JSONValue {
        try state.withLock { state throws(VirtError) in
            try Self.inject(&state, "PATCH", path)
            let key = Self.key(path, name: path.name ?? "")
            guard let current = state.objects[key] else { throw Self.notFound(path) }
            try Self.checkVersion(mergePatch, current, path)
            var next = current.applyingMergePatch(mergePatch)
            Self.keepServerFields(&next, from: current)
            if Self.hasStatus(path), path.subresource != "status" { next["status"] = current["status"] }
            return try Self.write(&state, key, current: current, next: next)
        }
    }

    package func delete(_ path: ResourcePath, propagationPolicy: PropagationPolicy?, gracePeriodSeconds: Int?) async throws(VirtError) -> JSONValue {
        try state.withLock { state throws(VirtError) in
            try Self.inject(&state, "DELETE", path)
            let key = Self.key(path, name: path.name ?? "")
            guard state.objects[key] != nil else { throw Self.notFound(path) }
            return Self.delete(&state, key, now: KubeTime.format(now()))
        }
    }

    package func watch(_ path: ResourcePath, resourceVersion: String?, labelSelector: String?, fieldSelector: String?)
        -> AsyncThrowingStream<WatchEvent, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchEvent.self, throwing: (any Error).self)
        let id: Int? = state.withLock { state in
            state.log.append("WATCH \(path.resource)")
            let since = resourceVersion.flatMap { Int64($0) }
            if let since, since < state.compactedThrough {
                continuation.finish(throwing: KubeStatus.error(
                    status: ["kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410, "reason": "Expired",
                             "message": .string("too old resource version: \(since) (\(state.compactedThrough))")],
                    httpStatus: 410))
                return nil
            }
            if let since {
                for record in state.history where record.revision > since && Self.matches(record.key, path) {
                    continuation.yield(WatchEvent(type: record.type, object: record.object))
                }
            } else {
                for (key, object) in state.objects.sorted(by: { $0.key < $1.key }) where Self.matches(key, path) {
                    continuation.yield(WatchEvent(type: .added, object: object))
                }
            }
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = Watcher(group: path.group, resource: path.resource, namespace: path.namespace, continuation: continuation)
            return state.nextWatcher
        }
        if let id {
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
            }
        }
        return stream
    }

    // MARK: - Internals (called with the lock held)

    static func key(_ path: ResourcePath, name: String) -> Key {
        Key(group: path.group, resource: path.resource, namespace: path.namespace ?? "", name: name)
    }

    static func matches(_ key: Key, _ path: ResourcePath) -> Bool {
        key.group == path.group && key.resource == path.resource && (path.namespace == nil || key.namespace == path.namespace)
    }

    static func hasStatus(_ path: ResourcePath) -> Bool {
        ["virtualmachines", "virtualmachineinstances", "pods", "nodes"].contains(path.resource)
    }

    static func nextUID(_ state: inout State) -> String {
        state.uids += 1
        return String(format: "00000000-0000-4000-8000-%012d", state.uids)
    }

    static func notFound(_ path: ResourcePath) -> VirtError {
        VirtError(.notFound, "\(path.resource) \"\(path.name ?? "")\" not found")
    }

    static func inject(_ state: inout State, _ verb: String, _ path: ResourcePath) throws(VirtError) {
        var entry = "\(verb) \(path.resource)"
        if let name = path.name { entry += "/\(name)" }
        if let sub = path.subresource { entry += "/\(sub)" }
        state.log.append(entry)
        if let index = state.injected.firstIndex(where: { $0.verb == verb && $0.resource == path.resource }) {
            throw state.injected.remove(at: index).error
        }
    }

    static func checkVersion(_ body: JSONValue, _ current: JSONValue, _ path: ResourcePath) throws(VirtError) {
        if let version = body.metadataResourceVersion, !version.isEmpty, version != current.metadataResourceVersion {
            throw VirtError(.conflict, "Operation cannot be fulfilled on \(path.resource) \"\(path.name ?? "")\": the object has been modified")
        }
    }

    static func keepServerFields(_ next: inout JSONValue, from current: JSONValue) {
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "namespace", "name", "generation"] {
            next[path: ["metadata", field]] = current[path: ["metadata", field]]
        }
    }

    static func write(_ state: inout State, _ key: Key, current: JSONValue, next: JSONValue) throws(VirtError) -> JSONValue {
        var next = next
        var a = current.objectValue ?? [:]
        var b = next.objectValue ?? [:]
        for field in ["metadata", "status"] {
            a[field] = nil
            b[field] = nil
        }
        if a != b { next[path: ["metadata", "generation"]] = .int((current.metadataGeneration ?? 1) + 1) }
        next[path: ["metadata", "resourceVersion"]] = current[path: ["metadata", "resourceVersion"]]
        if next == current { return current }
        if next.metadataDeletionTimestamp != nil, next.metadataFinalizers.isEmpty {
            return remove(&state, key, object: next)
        }
        return store(&state, key, next, type: .modified)
    }

    @discardableResult
    static func store(_ state: inout State, _ key: Key, _ object: JSONValue, type: WatchEvent.EventType) -> JSONValue {
        state.revision += 1
        var object = object
        object[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
        state.objects[key] = object
        publish(&state, Recorded(revision: state.revision, key: key, type: type, object: object))
        return object
    }

    static func remove(_ state: inout State, _ key: Key, object: JSONValue) -> JSONValue {
        state.revision += 1
        var object = object
        object[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
        state.objects[key] = nil
        publish(&state, Recorded(revision: state.revision, key: key, type: .deleted, object: object))
        // Background garbage collection of dependents.
        if let uid = object.metadataUID {
            let dependents = state.objects.filter { $0.value.metadataOwnerReferences.contains { $0["uid"]?.stringValue == uid } }.map(\.key)
            for dependent in dependents.sorted() where state.objects[dependent] != nil {
                _ = delete(&state, dependent, now: object.metadataDeletionTimestamp ?? "")
            }
        }
        return object
    }

    static func delete(_ state: inout State, _ key: Key, now: String) -> JSONValue {
        guard let current = state.objects[key] else { return .null }
        if current.metadataFinalizers.isEmpty {
            return remove(&state, key, object: current)
        }
        if current.metadataDeletionTimestamp != nil { return current }
        var next = current
        next[path: ["metadata", "deletionTimestamp"]] = .string(now.isEmpty ? "2024-01-01T00:00:00Z" : now)
        return store(&state, key, next, type: .modified)
    }

    static func publish(_ state: inout State, _ record: Recorded) {
        state.history.append(record)
        for watcher in state.watchers.values
        where watcher.group == record.key.group && watcher.resource == record.key.resource
            && (watcher.namespace == nil || watcher.namespace == record.key.namespace)
        {
            watcher.continuation.yield(WatchEvent(type: record.type, object: record.object))
        }
    }
}
