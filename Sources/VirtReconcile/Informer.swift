import Logging
import ServiceLifecycle
import Synchronization
import VirtAPI
import VirtClient
import VirtError

/// Keeps an ``ObjectCache`` of one resource in step with the API server: lists it once, then watches from
/// the list's `resourceVersion`, resuming from the last version seen whenever the watch ends or breaks, and
/// listing again only when the server says that version is gone (410 `Expired`) or sends another `ERROR`.
///
/// Handlers run after the cache has taken each change in, one event at a time, in order; they typically
/// enqueue keys on a ``WorkQueue``. Add them before ``run()`` starts.
///
/// `Informer` is a `Service`: ``run()`` returns on cancellation or graceful shutdown.
public final class Informer: Service, Sendable {
    /// A function told about each change.
    public typealias Handler = @Sendable (InformerEvent) async -> Void

    /// The collection watched (a namespace in it narrows the watch; no namespace watches all).
    public let path: ResourcePath
    /// The objects seen so far.
    public let cache: ObjectCache
    let client: any APIClient
    let labelSelector: String?
    let fieldSelector: String?
    let kind: String?
    let retry: RetryBackoff
    let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var handlers: [Handler] = []
        var synced = false
        var syncWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        var resourceVersion: String?
    }

    /// Creates an informer.
    ///
    /// - Parameters:
    ///   - client: the API.
    ///   - path: the collection, e.g. `ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachines")`.
    ///   - kind: stamped (with `path.apiVersion`) on objects that arrive without `kind`, as list items may.
    ///   - retry: the pause between failed attempts (grows per consecutive failure).
    public init(
        client: any APIClient,
        path: ResourcePath,
        kind: String? = nil,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        retry: RetryBackoff = RetryBackoff(base: .milliseconds(250), max: .seconds(30)),
        logger: Logger
    ) {
        self.client = client
        self.path = path.collection
        self.kind = kind
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.retry = retry
        self.cache = ObjectCache()
        var logger = logger
        logger[metadataKey: "informer"] = "\(path.resource)"
        self.logger = logger
    }

    /// Adds a handler for every later change.
    public func addHandler(_ handler: @escaping Handler) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// Whether the first list has been taken into the cache.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// The `resourceVersion` the next watch resumes from.
    public var lastResourceVersion: String? { state.withLock { $0.resourceVersion } }

    /// Returns once the first list is in the cache.
    ///
    /// - Throws: `CancellationError` when the waiting task is cancelled first.
    public func waitUntilSynced() async throws {
        let id = state.withLock { state -> Int? in
            if state.synced { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.synced || Task.isCancelled { return true }
                    state.syncWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.syncWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
        try Task.checkCancellation()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    /// Lists, then watches and resumes until cancelled.
    func loop() async {
        var failures = 0
        while !Task.isCancelled {
            var received = false
            do {
                if lastResourceVersion == nil {
                    try await relist()
                }
                let stream = client.watch(path, resourceVersion: lastResourceVersion, labelSelector: labelSelector, fieldSelector: fieldSelector)
                for try await event in stream {
                    received = true
                    failures = 0
                    await apply(event)
                }
                if Task.isCancelled { return }
                logger.debug("watch ended; resuming", metadata: ["resourceVersion": "\(lastResourceVersion ?? "")"])
                if received { continue }
                failures += 1
            } catch {
                if Task.isCancelled || error is CancellationError { return }
                if let virt = error as? VirtError, KubeStatus.serverStatus(of: virt) != nil {
                    // The server refused the version (410 Expired) or sent another ERROR: start over.
                    logger.info("watch refused by the server; listing again", metadata: ["error": "\(virt.message)"])
                    state.withLock { $0.resourceVersion = nil }
                    if virt.code == .gone {
                        continue
                    }
                } else {
                    logger.warning("list/watch failed; retrying", metadata: ["error": "\(error)"])
                }
                failures += 1
            }
            do {
                try await Task.sleep(for: retry.delay(afterFailures: failures - 1))
            } catch {
                return
            }
        }
    }

    /// Lists the collection, replaces the cache and tells the handlers what changed.
    func relist() async throws(VirtError) {
        let list = try await client.list(path, labelSelector: labelSelector, fieldSelector: fieldSelector)
        let items = (list["items"]?.arrayValue ?? []).map(stamped)
        let events = cache.replace(with: items)
        let handlers = state.withLock { state in
            state.resourceVersion = list[path: ["metadata", "resourceVersion"]]?.stringValue ?? state.resourceVersion ?? "0"
            return state.handlers
        }
        for event in events {
            for handler in handlers { await handler(event) }
        }
        // The waiters are taken when `synced` is set, in the same lock: one that registered while the
        // handlers ran is resumed too (taking them before the handlers lost those, and a controller
        // waiting for this informer never started its workers).
        let waiters = state.withLock { state in
            state.synced = true
            let waiting = Array(state.syncWaiters.values)
            state.syncWaiters.removeAll()
            return waiting
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Takes one watch event into the cache and tells the handlers.
    func apply(_ event: WatchEvent) async {
        if let version = event.resourceVersion {
            state.withLock { $0.resourceVersion = version }
        }
        let object = stamped(event.object)
        let change: InformerEvent?
        switch event.type {
        case .added, .modified:
            let old = cache.upsert(object)
            change = InformerEvent(kind: old == nil ? .added : .modified, object: object, oldObject: old)
        case .deleted:
            if let key = ObjectKey(object: object) { cache.remove(key) }
            change = InformerEvent(kind: .deleted, object: object)
        case .bookmark, .error:
            change = nil
        }
        guard let change else { return }
        let handlers = state.withLock { $0.handlers }
        for handler in handlers { await handler(change) }
    }

    private func stamped(_ object: JSONValue) -> JSONValue {
        guard let kind, object["kind"] == nil, object.objectValue != nil else { return object }
        var copy = object
        copy["kind"] = .string(kind)
        copy["apiVersion"] = .string(path.apiVersion)
        return copy
    }
}
