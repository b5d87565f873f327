import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtError
@testable import VirtStore

@Suite struct SQLiteStoreTests {
    let directory: String
    let store: SQLiteStore

    init() throws {
        directory = NSTemporaryDirectory() + "swiftvirt-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory + "/store.db")
    }

    func key(_ name: String, namespace: String = "default") -> StoreKey {
        StoreKey(resource: "kubevirt.io/virtualmachines", namespace: namespace, name: name)
    }

    func object(_ name: String, _ value: Int64 = 0) -> JSONValue {
        ["metadata": ["name": .string(name)], "spec": ["value": .int(value)]]
    }

    @Test func createStampsRevisionAndRefusesDuplicates() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await store.create(key("a"), object: object("a"))
        let second = try await store.create(key("b"), object: object("b"))
        #expect(second.revision == first.revision + 1)
        #expect(first.object[path: ["metadata", "resourceVersion"]] == .string(String(first.revision)))
        await #expect(throws: VirtError.self) { try await store.create(key("a"), object: object("a")) }
        #expect(try await store.currentRevision() == second.revision)
    }

    @Test func updateComparesAndSwaps() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let created = try await store.create(key("a"), object: object("a"))
        let updated = try await store.update(key("a"), object: object("a", 1), expectedRevision: created.revision)
        #expect(updated.revision > created.revision)
        do {
            _ = try await store.update(key("a"), object: object("a", 2), expectedRevision: created.revision)
            Issue.record("a stale update must fail")
        } catch let error as VirtError {
            #expect(error.code == .conflict)
        }
        #expect(try await store.get(key("a"))?.object[path: ["spec", "value"]] == .int(1))
        let deleted = try await store.delete(key("a"), expectedRevision: updated.revision)
        #expect(deleted.revision > updated.revision)
        #expect(try await store.get(key("a")) == nil)
    }

    @Test func listPagesInKeyOrderWithFilter() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["c", "a", "d", "b"] { _ = try await store.create(key(name), object: object(name)) }
        _ = try await store.create(key("z", namespace: "other"), object: object("z"))
        let scope = StoreScope(resource: "kubevirt.io/virtualmachines", namespace: "default")
        let page = try await store.list(scope, startAfter: nil, limit: 2, filter: nil)
        #expect(page.items.map(\.key.name) == ["a", "b"])
        let rest = try await store.list(scope, startAfter: page.continueAfter, limit: 2, filter: nil)
        #expect(rest.items.map(\.key.name) == ["c", "d"])
        #expect(rest.continueAfter == nil)
        let all = try await store.list(StoreScope(resource: "kubevirt.io/virtualmachines"), startAfter: nil, limit: 0, filter: nil)
        #expect(all.items.count == 5)
        let filtered = try await store.list(scope, startAfter: nil, limit: 0) { $0.metaNameForTest != "b" }
        #expect(filtered.items.map(\.key.name) == ["a", "c", "d"])
    }

    @Test func watchFromRevisionDeliversHistoryThenLiveEventsInOrder() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let start = try await store.currentRevision()
        for i in 0..<5 { _ = try await store.create(key("h\(i)"), object: object("h\(i)")) }
        let stream = try await store.watch(StoreScope(resource: "kubevirt.io/virtualmachines"), afterRevision: start)
        let writer = Task {
            for i in 0..<5 { _ = try await store.create(key("l\(i)"), object: object("l\(i)")) }
            _ = try await store.delete(key("h0"), expectedRevision: nil)
        }
        var seen: [(StoreEvent.Kind, String, Int64)] = []
        for try await event in stream {
            seen.append((event.kind, event.key.name, event.revision))
            if seen.count == 11 { break }
        }
        try await writer.value
        #expect(seen.map(\.1) == ["h0", "h1", "h2", "h3", "h4", "l0", "l1", "l2", "l3", "l4", "h0"])
        #expect(seen.last?.0 == .deleted)
        let revisions = seen.map(\.2)
        #expect(revisions == revisions.sorted())
        #expect(Set(revisions).count == revisions.count)
    }

    /// Watches opened while writes go on each get every event once, in order: the history read from its
    /// snapshot and the events held back meanwhile meet with no gap and no repeat. The history read runs
    /// without the watchers' lock, which a publish waits for: when it ran under the lock, this test hung in
    /// three runs out of five (every cooperative thread waiting on the lock or on a reader connection that only
    /// a task waiting for a cooperative thread would give back).
    @Test(.timeLimit(.minutes(1)))
    func watchesOpenedDuringWritesSeeEveryEventOnceInOrder() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let start = try await store.currentRevision()
        let count = 300
        let names = (0..<count).map { "w\($0)" }
        let writer = Task {
            for name in names { _ = try await store.create(key(name), object: object(name)) }
        }
        // Reads in flight hold reader connections until their tasks resume on the cooperative pool, which has
        // as many threads as cores.
        let readers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<400 { group.addTask { _ = try await store.get(key(names[i % count])) } }
                try await group.waitForAll()
            }
        }
        try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<24 {
                group.addTask {
                    let stream = try await store.watch(StoreScope(resource: "kubevirt.io/virtualmachines"), afterRevision: start)
                    var seen: [String] = []
                    for try await event in stream {
                        seen.append(event.key.name)
                        if seen.count == count { break }
                    }
                    return seen
                }
                await Task.yield()
            }
            for try await seen in group { #expect(seen == names) }
        }
        try await writer.value
        try await readers.value
    }

    @Test func aHeldBackWatcherGetsHistoryThenWhatTheSnapshotMissedOnce() {
        func event(_ revision: Int64) -> StoreEvent {
            StoreEvent(kind: .added, key: key("r\(revision)"), revision: revision, object: object("r\(revision)"))
        }
        let delivered = Mutex<[Int64]>([])
        var hub = WatchHub()
        let id = hub.add(scope: StoreScope(resource: "kubevirt.io/virtualmachines"), after: 2) { event in
            delivered.withLock { $0.append(event.revision) }
        }
        hub.publish(event(5))
        hub.publish(event(6))
        #expect(delivered.withLock { $0 }.isEmpty)
        hub.goLive(id, history: [event(3), event(4), event(5)], snapshotRevision: 5)
        hub.publish(event(6))
        hub.publish(event(7))
        #expect(delivered.withLock { $0 } == [3, 4, 5, 6, 7])
        hub.remove(id)
        hub.publish(event(8))
        #expect(delivered.withLock { $0 } == [3, 4, 5, 6, 7])
    }

    @Test func compactionMakesOldHistoryGone() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await store.create(key("a"), object: object("a"))
        _ = try await store.update(key("a"), object: object("a", 1), expectedRevision: nil)
        let now = try await store.currentRevision()
        try await store.compact(toRevision: now)
        do {
            _ = try await store.watch(StoreScope(resource: "kubevirt.io/virtualmachines"), afterRevision: first.revision)
            Issue.record("a watch before the compaction point must fail")
        } catch let error as VirtError {
            #expect(error.code == .gone)
        }
        _ = try await store.watch(StoreScope(resource: "kubevirt.io/virtualmachines"), afterRevision: now)
    }

    @Test func createPreconditionRunsInTheTransactionAndRefusesWithItsError() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let namespaces = StoreKey(resource: "/namespaces", namespace: "", name: "team")
        let requireTeam = StorePrecondition(key: namespaces) { stored in
            if stored == nil { throw VirtError(.notFound, "namespaces \"team\" not found") }
        }
        let before = try await store.currentRevision()
        await #expect(throws: VirtError.self) {
            try await store.create(key("a", namespace: "team"), object: object("a"), precondition: requireTeam)
        }
        #expect(try await store.currentRevision() == before)
        #expect(try await store.get(key("a", namespace: "team")) == nil)
        _ = try await store.create(namespaces, object: object("team"))
        let created = try await store.create(key("a", namespace: "team"), object: object("a"), precondition: requireTeam)
        #expect(created.objectJSON == created.object.serialized())
    }

    /// Writes read objects through a remembered parse (every create reads its namespace): the check must see
    /// each update and delete of the object it reads, and a store opened afresh on the same file too.
    @Test func preconditionsSeeTheLatestStateOfWhatTheyRead() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let namespaces = StoreKey(resource: "/namespaces", namespace: "", name: "team")
        let requireLiveTeam = StorePrecondition(key: namespaces) { stored in
            guard let stored else { throw VirtError(.notFound, "namespaces \"team\" not found") }
            if stored[path: ["metadata", "deletionTimestamp"]] != nil { throw VirtError(.forbidden, "team is being terminated") }
        }
        let team = try await store.create(namespaces, object: object("team"))
        _ = try await store.create(key("a", namespace: "team"), object: object("a"), precondition: requireLiveTeam)
        var terminating = team.object
        terminating[path: ["metadata", "deletionTimestamp"]] = "2026-11-27T00:00:00Z"
        _ = try await store.update(namespaces, object: terminating, expectedRevision: team.revision)
        await #expect(throws: VirtError.self) {
            try await store.create(key("b", namespace: "team"), object: object("b"), precondition: requireLiveTeam)
        }
        _ = try await store.delete(namespaces, expectedRevision: nil)
        do {
            _ = try await store.create(key("c", namespace: "team"), object: object("c"), precondition: requireLiveTeam)
            Issue.record("a create in a deleted namespace went through")
        } catch let error as VirtError {
            #expect(error.code == .notFound)
        }
        let live = try await store.create(namespaces, object: object("team"))
        _ = try await store.create(key("d", namespace: "team"), object: object("d"), precondition: requireLiveTeam)
        // Changed behind this store's back (another store on the same file): the revision differs, so the
        // remembered parse is not used.
        let other = try SQLiteStore(path: directory + "/store.db")
        var renamed = live.object
        renamed[path: ["metadata", "deletionTimestamp"]] = "2026-11-27T00:00:00Z"
        _ = try await other.update(namespaces, object: renamed, expectedRevision: live.revision)
        await #expect(throws: VirtError.self) {
            try await store.create(key("e", namespace: "team"), object: object("e"), precondition: requireLiveTeam)
        }
    }

    @Test func walStartsOverUnderASteadyStreamOfWrites() async throws {
        // About seven pages per commit: a WAL that never starts over passes 110 MiB after these 4,000 commits;
        // one that starts over after each checkpoint stays near the frames of 500 to 1,000 commits.
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let padding = JSONValue.string(String(repeating: "x", count: 1_000))
        for i in 0..<4_000 {
            var value = object("w\(i)")
            value[path: ["spec", "padding"]] = padding
            _ = try await store.create(key("w\(i)"), object: value)
        }
        #expect(store.walSize < 48 << 20, "WAL is \(store.walSize) bytes")
    }

    @Test func dataSurvivesReopening() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let created = try await store.create(key("kept"), object: object("kept", 7))
        let reopened = try SQLiteStore(path: directory + "/store.db")
        let read = try await reopened.get(key("kept"))
        #expect(read?.revision == created.revision)
        #expect(read?.object[path: ["spec", "value"]] == .int(7))
        #expect(try await reopened.currentRevision() == created.revision)
    }
}

extension JSONValue {
    var metaNameForTest: String? { self[path: ["metadata", "name"]]?.stringValue }
}
