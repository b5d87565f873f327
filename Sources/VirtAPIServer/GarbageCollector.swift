import Logging
import ServiceLifecycle
import VirtAPI
import VirtError
import VirtStore

/// Deletes what the API's deletion rules say must go: dependents whose owner is gone (background
/// propagation), dependents of an owner in `foregroundDeletion`, ownerReferences of an `orphan` owner, and
/// the contents of a terminating namespace. It follows the store's event stream and keeps an index of
/// owner UIDs; it runs inside the API server because it is part of the storage semantics.
public actor GarbageCollector: Service {
    let handler: ResourceHandler
    let logger: Logger
    private var objectsByUID: [String: StoreKey] = [:]
    private var dependents: [String: Set<StoreKey>] = [:]
    private var ownersOf: [StoreKey: [String]] = [:]

    public init(handler: ResourceHandler, logger: Logger) {
        self.handler = handler
        self.logger = logger
    }

    var store: any RevisionedStore { handler.store }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await self.loop()
        }
    }

    func loop() async throws {
        // Every kind it follows is read at one revision, and the watch starts from exactly that revision:
        // nothing written while the collector starts falls between the list and the watch.
        let followed = Set(handler.registry.types.map(\.storeResource))
        let page = try await store.list(.everything, startAfter: nil, limit: 0, filter: nil)
        var pending: [StoreKey] = []
        for item in page.items where followed.contains(item.key.resource) {
            index(item.key, item.object)
            pending.append(item.key)
        }
        let events = try await store.watch(.everything, afterRevision: page.revision)
        for key in pending { await examine(key) }
        for try await event in events {
            if event.kind == .deleted {
                unindex(event.key, event.object)
                await examineDependents(ofUID: event.object.metaUID)
                for ownerUID in event.object.metaOwnerReferences.compactMap({ $0["uid"]?.stringValue }) {
                    if let owner = objectsByUID[ownerUID] { await examine(owner) }
                }
                if !event.key.namespace.isEmpty { await examineNamespace(event.key.namespace) }
            } else {
                index(event.key, event.object)
                await examine(event.key)
            }
        }
    }

    // MARK: - Index

    private func index(_ key: StoreKey, _ object: JSONValue) {
        if let uid = object.metaUID { objectsByUID[uid] = key }
        let owners = object.metaOwnerReferences.compactMap { $0["uid"]?.stringValue }
        for old in ownersOf[key] ?? [] where !owners.contains(old) { dependents[old]?.remove(key) }
        for owner in owners { dependents[owner, default: []].insert(key) }
        ownersOf[key] = owners.isEmpty ? nil : owners
    }

    private func unindex(_ key: StoreKey, _ object: JSONValue) {
        if let uid = object.metaUID, objectsByUID[uid] == key { objectsByUID[uid] = nil }
        for owner in ownersOf[key] ?? [] { dependents[owner]?.remove(key) }
        ownersOf[key] = nil
    }

    // MARK: - Decisions

    private func examineDependents(ofUID uid: String?) async {
        guard let uid else { return }
        for key in dependents[uid] ?? [] { await examine(key) }
    }

    /// Looks at one object after it changed.
    private func examine(_ key: StoreKey) async {
        do {
            guard let stored = try await store.get(key), let type = type(of: key) else { return }
            let object = stored.object
            // Dependents of owners that no longer exist go (background propagation).
            let ownerUIDs = object.metaOwnerReferences.compactMap { $0["uid"]?.stringValue }
            if !ownerUIDs.isEmpty, ownerUIDs.allSatisfy({ objectsByUID[$0] == nil }), object.metaDeletionTimestamp == nil {
                try await delete(key, type: type, policy: "Background")
                return
            }
            guard object.metaDeletionTimestamp != nil else { return }
            let uid = object.metaUID ?? ""
            if type.kind == "Namespace" {
                await examineNamespace(key.name)
            } else if object.metaFinalizers.contains("orphan") {
                for dependent in dependents[uid] ?? [] { try await removeOwnerReference(uid, from: dependent) }
                try await removeFinalizer("orphan", from: key, type: type)
            } else if object.metaFinalizers.contains("foregroundDeletion") {
                let remaining = dependents[uid] ?? []
                if remaining.isEmpty {
                    try await removeFinalizer("foregroundDeletion", from: key, type: type)
                } else {
                    for dependent in remaining {
                        if let dependentType = self.type(of: dependent) { try await delete(dependent, type: dependentType, policy: "Foreground") }
                    }
                }
            }
        } catch let error as VirtError where error.code == .notFound || error.code == .conflict {
            // Changed under us: the next event brings it back here.
        } catch {
            logger.warning("garbage collector: \(key): \(error)")
        }
    }

    /// Deletes everything in a terminating namespace, then the namespace itself.
    private func examineNamespace(_ namespace: String) async {
        guard let namespaceType = handler.registry.resource(group: "", version: "v1", plural: "namespaces") else { return }
        let key = StoreKey(resource: namespaceType.storeResource, namespace: "", name: namespace)
        do {
            guard let stored = try await store.get(key), stored.object.metaDeletionTimestamp != nil else { return }
            var remaining = 0
            for type in handler.registry.types where type.namespaced {
                let page = try await store.list(StoreScope(resource: type.storeResource, namespace: namespace), startAfter: nil, limit: 0, filter: nil)
                remaining += page.items.count
                for item in page.items where item.object.metaDeletionTimestamp == nil {
                    try? await delete(item.key, type: type, policy: "Background")
                }
            }
            guard remaining == 0 else { return }
            var object = stored.object
            object[path: ["spec", "finalizers"]] = nil
            if !object.metaFinalizers.isEmpty { return }
            _ = try await store.delete(key, expectedRevision: stored.revision)
        } catch let error as VirtError where error.code == .notFound || error.code == .conflict {
        } catch {
            logger.warning("garbage collector: namespace \(namespace): \(error)")
        }
    }

    private func type(of key: StoreKey) -> ResourceType? {
        handler.registry.types.first { $0.storeResource == key.resource }
    }

    private func target(_ key: StoreKey, _ type: ResourceType) -> RequestTarget {
        RequestTarget(type: type, namespace: key.namespace.isEmpty ? nil : key.namespace, name: key.name, subresource: nil)
    }

    private func delete(_ key: StoreKey, type: ResourceType, policy: String) async throws {
        var options = ResourceHandler.DeleteOptions()
        options.propagationPolicy = policy
        _ = try await handler.delete(target(key, type), name: key.name, options: options, dryRun: false)
    }

    private func removeFinalizer(_ finalizer: String, from key: StoreKey, type: ResourceType) async throws {
        guard let stored = try await store.get(key) else { return }
        var object = stored.object
        object[path: ["metadata", "finalizers"]] = .array(object.metaFinalizers.filter { $0 != finalizer }.map { .string($0) })
        _ = try await handler.update(target(key, type), name: key.name, proposed: object, subresource: nil,
                                     fieldValidation: "Ignore", dryRun: false, expectedRevision: stored.revision)
    }

    private func removeOwnerReference(_ uid: String, from key: StoreKey) async throws {
        guard let stored = try await store.get(key), let type = type(of: key) else { return }
        var object = stored.object
        let kept = object.metaOwnerReferences.filter { $0["uid"]?.stringValue != uid }
        object[path: ["metadata", "ownerReferences"]] = kept.isEmpty ? nil : .array(kept)
        _ = try await handler.update(target(key, type), name: key.name, proposed: object, subresource: nil,
                                     fieldValidation: "Ignore", dryRun: false, expectedRevision: stored.revision)
    }
}
