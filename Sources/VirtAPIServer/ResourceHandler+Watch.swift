import Foundation
import Synchronization
import VirtAPI
import VirtError
import VirtStore

extension ResourceHandler {
    /// A watch: newline-delimited JSON events, first the current state when asked for (no or zero
    /// resourceVersion), then every change; BOOKMARKs when allowed; an ERROR event for expired history.
    func watch(_ request: APIRequest, target: RequestTarget) async throws -> APIResponse {
        let type = target.type
        let filter = try selectorFilter(request, type: type)
        let asTable = request.wantsTable
        let bookmarks = request.flag("allowWatchBookmarks")
        let timeout = request.query["timeoutSeconds"].flatMap { Int($0) }
        let scope = StoreScope(resource: type.storeResource, namespace: target.namespace, name: target.name)
        let rvText = request.query["resourceVersion"] ?? ""
        var initial: [JSONValue] = []
        let startRevision: Int64
        if rvText.isEmpty || rvText == "0" {
            let page = try await store.list(scope, startAfter: nil, limit: 0, filter: filter)
            initial = page.items.map(\.object)
            startRevision = page.revision
        } else {
            guard let revision = Int64(rvText) else {
                throw VirtError(.badRequest, "resourceVersion: Invalid value: \"\(rvText)\": must be an integer")
            }
            startRevision = revision
        }
        let encode: @Sendable (String, JSONValue) -> [UInt8] = { [self] kind, object in
            let payload = asTable && kind != "ERROR" && kind != "BOOKMARK" ? table(for: type, objects: [object], revision: nil) : object
            var line = JSONValue.object(["type": .string(kind), "object": payload]).serializedBytes()
            line.append(0x0A)
            return line
        }
        let store = self.store
        let lastRevision = RevisionBox(startRevision)
        // One store event as the chunk a watcher sends, or nil when the selector hides it.
        let line: @Sendable (StoreEvent) -> PushChunk? = { event in
            let matchesNow = filter?(event.object) ?? true
            let matchedBefore = event.previous.map { filter?($0) ?? true } ?? matchesNow
            var kind: String
            switch event.kind {
            case .added: kind = "ADDED"
            case .modified: kind = "MODIFIED"
            case .deleted: kind = "DELETED"
            }
            if event.kind == .modified, filter != nil {
                if matchesNow, !matchedBefore { kind = "ADDED" }
                if !matchesNow, matchedBefore { kind = "DELETED" }
            }
            lastRevision.value.withLock { $0 = event.revision }
            if !matchesNow, !(kind == "DELETED" && matchedBefore) { return nil }
            if !asTable, let json = event.objectJSON {
                return Self.sharedChunk(kind: kind, objectJSON: json)
            } else {
                return PushChunk(encode(kind, event.object))
            }
        }
        let initialObjects = initial
        // The initial objects, then every event after the start revision, each as a line for `emit`.
        let pump: @Sendable (_ emit: ([UInt8]) async throws -> Void) async throws -> Void = { emit in
            for object in initialObjects { try await emit(encode("ADDED", object)) }
            let events: AsyncThrowingStream<StoreEvent, any Error>
            do {
                events = try await store.watch(scope, afterRevision: startRevision)
            } catch let error as VirtError where error.code == .gone {
                try await emit(encode("ERROR", error.statusObject))
                return
            }
            for try await event in events {
                if let chunk = line(event) { try await emit(chunk.bytes) }
            }
        }
        if timeout == nil, !bookmarks {
            // No clock to run beside the events: the store's thread hands each line to the connection.
            return APIResponse(status: 200, body: .push { sink in
                for object in initialObjects { sink.send(encode("ADDED", object)) }
                let registration: StoreWatchRegistration
                do {
                    registration = try await store.watch(scope, afterRevision: startRevision) { event in
                        if let chunk = line(event) { sink.send(chunk) }
                    }
                } catch let error as VirtError where error.code == .gone {
                    sink.send(encode("ERROR", error.statusObject))
                    return
                }
                await sink.closed()
                registration.cancel()
            })
        }
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let task = Task {
            do {
                try await pump { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        // Timeouts and bookmarks need a clock beside the events.
        let timers = Task {
            let started = ContinuousClock.now
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                if let timeout, ContinuousClock.now - started >= .seconds(timeout) {
                    continuation.finish()
                    return
                }
                if bookmarks, (ContinuousClock.now - started).components.seconds % 5 == 0 {
                    let revision = lastRevision.value.withLock { $0 }
                    let bookmark: JSONValue = [
                        "kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                        "metadata": ["resourceVersion": .string(String(revision))],
                    ]
                    continuation.yield(encode("BOOKMARK", bookmark))
                }
            }
        }
        continuation.onTermination = { _ in
            task.cancel()
            timers.cancel()
        }
        return APIResponse(status: 200, body: .stream(stream))
    }
}

extension ResourceHandler {
    /// The chunk of the event the store published last, for every watcher that sends it as is.
    private static let lastChunk = Mutex<(kind: String, objectJSON: String, chunk: PushChunk)?>(nil)

    /// An event's line, `{"object":…,"type":…}` with the store's own JSON for the object (keys sorted, as
    /// JSONValue writes them). The store hands one event to all its watchers in turn, so the line is built
    /// and framed once and shared. The line depends on the kind and the JSON alone, so a match is always right.
    static func sharedChunk(kind: String, objectJSON json: String) -> PushChunk {
        if let last = lastChunk.withLock({ $0 }), last.kind == kind, last.objectJSON == json { return last.chunk }
        var line: [UInt8] = []
        line.reserveCapacity(json.utf8.count + 32)
        line.append(contentsOf: #"{"object":"#.utf8)
        line.append(contentsOf: json.utf8)
        line.append(contentsOf: #","type":""#.utf8)
        line.append(contentsOf: kind.utf8)
        line.append(contentsOf: "\"}\n".utf8)
        let chunk = PushChunk(line)
        lastChunk.withLock { $0 = (kind, json, chunk) }
        return chunk
    }
}

/// The newest revision a watch has passed on, shared by its event and bookmark tasks.
final class RevisionBox: Sendable {
    let value: Mutex<Int64>
    init(_ revision: Int64) { value = Mutex(revision) }
}
