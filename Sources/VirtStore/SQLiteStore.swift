import Foundation
import GRDB
import Synchronization
import VirtAPI
import VirtError

/// The embedded store: one SQLite file in WAL mode, through GRDB.
///
/// Tables: `objects` (the current state), `events` (history since the compaction point, for watch) and
/// `meta` (the current and compacted revisions). Every write is one transaction that bumps the revision,
/// writes the object and its event, and then, still on the store's one writer queue, hands the event to
/// live watchers, so watchers see events in revision order with no gap.
///
/// Callers never block: reads and writes run on GRDB's own threads and the caller awaits them, so a slow
/// disk holds no thread of Swift's small cooperative pool. WAL checkpoints (the one step that syncs the
/// disk) run on a connection of their own beside the writer, instead of inside a commit.
public final class SQLiteStore: RevisionedStore {
    private let pool: DatabasePool
    private let path: String
    private let checkpointer: DatabaseQueue
    private let hub = Mutex(WatchHub())
    /// Commits since the last checkpoint was scheduled, and whether one is running.
    private let checkpointState = Mutex((commits: 0, running: false))
    /// Objects the writer read or wrote lately, parsed, with their revisions. A write that reads an object
    /// (a create's namespace check, the current state an update or delete replaces) parses its JSON only when
    /// the stored revision is not the one remembered: every create in a namespace reads the same namespace.
    /// Only the writer queue uses it.
    private let recent = Mutex<[StoreKey: (revision: Int64, object: JSONValue)]>([:])
    static let recentLimit = 512
    /// Commits between two background checkpoints (SQLite's own default is about 1000 pages).
    static let commitsPerCheckpoint = 500

    /// Opens (creating if needed) the store at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Checkpoints are the background checkpointer's job, not a committing writer's.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            checkpointer = try DatabaseQueue(path: path)
            try pool.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS objects (
                        resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                        revision INTEGER NOT NULL, data TEXT NOT NULL,
                        PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS events (
                        revision INTEGER PRIMARY KEY, kind INTEGER NOT NULL,
                        resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT OR IGNORE INTO meta VALUES ('revision', 1), ('compacted', 0);
                    """)
            }
        } catch {
            throw VirtError.internalError("cannot open the store at \(path): \(error)")
        }
    }

    public func currentRevision() async throws -> Int64 {
        try await read { db in try Self.metaValue(db, "revision") }
    }

    public func compactedRevision() async throws -> Int64 {
        try await read { db in try Self.metaValue(db, "compacted") }
    }

    public func get(_ key: StoreKey) async throws -> StoredObject? {
        try await read { db in try Self.fetch(db, key) }
    }

    public func list(_ scope: StoreScope, startAfter: StoreKey?, limit: Int, filter: (@Sendable (JSONValue) -> Bool)?) async throws -> StoreListPage {
        try await read { db in
            let revision = try Self.metaValue(db, "revision")
            // `StoreScope.everything` reads every resource in the one transaction: one revision for all.
            let everything = scope.resource.isEmpty
            var sql = "SELECT namespace, name, revision, data, resource FROM objects WHERE " + (everything ? "1" : "resource = ?")
            var arguments: StatementArguments = everything ? [] : [scope.resource]
            if let namespace = scope.namespace {
                sql += " AND namespace = ?"
                _ = arguments.append(contentsOf: [namespace])
            }
            if let name = scope.name {
                sql += " AND name = ?"
                _ = arguments.append(contentsOf: [name])
            }
            if let startAfter {
                if everything {
                    sql += " AND (resource > ? OR (resource = ? AND (namespace > ? OR (namespace = ? AND name > ?))))"
                    _ = arguments.append(contentsOf: [startAfter.resource, startAfter.resource])
                } else {
                    sql += " AND (namespace > ? OR (namespace = ? AND name > ?))"
                }
                _ = arguments.append(contentsOf: [startAfter.namespace, startAfter.namespace, startAfter.name])
            }
            sql += everything ? " ORDER BY resource, namespace, name" : " ORDER BY namespace, name"
            var items: [StoredObject] = []
            var continueAfter: StoreKey?
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try cursor.next() {
                let key = StoreKey(resource: everything ? row[4] : scope.resource, namespace: row[0], name: row[1])
                let object = try Self.decode(row[3], key: key)
                if let filter, !filter(object) { continue }
                if limit > 0, items.count == limit {
                    continueAfter = items.last?.key
                    break
                }
                items.append(StoredObject(key: key, revision: row[2], object: object))
            }
            return StoreListPage(items: items, revision: revision, continueAfter: continueAfter)
        }
    }

    public func create(_ key: StoreKey, object: JSONValue, precondition: StorePrecondition?) async throws -> StoredObject {
        try await write { db in
            if let precondition {
                try precondition.check(try self.writerFetch(db, precondition.key)?.object)
            }
            if try Self.exists(db, key) {
                throw VirtError(.exists, "\(key.name) already exists")
            }
            let revision = try Self.metaValue(db, "revision") + 1
            let stamped = object.stamped(revision: revision)
            let data = stamped.serialized()
            try db.cachedStatement(sql: "INSERT INTO objects VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [key.resource, key.namespace, key.name, revision, data])
            try Self.record(db, kind: .added, key: key, revision: revision, data: data)
            self.remember(key, revision: revision, object: stamped)
            return StoreEvent(kind: .added, key: key, revision: revision, object: stamped, objectJSON: data)
        }.stored
    }

    public func update(_ key: StoreKey, object: JSONValue, expectedRevision: Int64?) async throws -> StoredObject {
        try await write { db in
            guard let current = try self.writerFetch(db, key) else {
                throw VirtError(.notFound, "\(key.name) not found")
            }
            if let expectedRevision, expectedRevision != current.revision {
                throw VirtError(.conflict, "the object has been modified; please apply your changes to the latest version and try again")
            }
            let revision = try Self.metaValue(db, "revision") + 1
            let stamped = object.stamped(revision: revision)
            let data = stamped.serialized()
            try db.cachedStatement(sql: "UPDATE objects SET revision = ?, data = ? WHERE resource = ? AND namespace = ? AND name = ?")
                .execute(arguments: [revision, data, key.resource, key.namespace, key.name])
            try Self.record(db, kind: .modified, key: key, revision: revision, data: data)
            self.remember(key, revision: revision, object: stamped)
            return StoreEvent(kind: .modified, key: key, revision: revision, object: stamped, previous: current.object, objectJSON: data)
        }.stored
    }

    public func delete(_ key: StoreKey, expectedRevision: Int64?) async throws -> StoredObject {
        try await write { db in
            guard let current = try self.writerFetch(db, key) else {
                throw VirtError(.notFound, "\(key.name) not found")
            }
            if let expectedRevision, expectedRevision != current.revision {
                throw VirtError(.conflict, "the object has been modified; please apply your changes to the latest version and try again")
            }
            let revision = try Self.metaValue(db, "revision") + 1
            let stamped = current.object.stamped(revision: revision)
            _ = self.recent.withLock { $0.removeValue(forKey: key) }
            try db.cachedStatement(sql: "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?")
                .execute(arguments: [key.resource, key.namespace, key.name])
            let data = stamped.serialized()
            try Self.record(db, kind: .deleted, key: key, revision: revision, data: data)
            return StoreEvent(kind: .deleted, key: key, revision: revision, object: stamped, previous: current.object, objectJSON: data)
        }.stored
    }

    public func watch(_ scope: StoreScope, afterRevision revision: Int64,
                      deliver: @escaping @Sendable (StoreEvent) -> Void) async throws -> StoreWatchRegistration {
        // The watcher registers first, holding back what is published meanwhile; then the history is read,
        // without the hub's lock (a read waits for a reader connection and a thread to run it, and a publish
        // waits for the lock: holding it across the read starved the writer and the readers of threads).
        // Every event committed after the read's snapshot is published after the registration, so the held
        // events and the history meet with no gap; those at or below the snapshot's revision are in both and
        // are handed over once.
        let id = hub.withLock { $0.add(scope: scope, after: revision, deliver: deliver) }
        let registration = StoreWatchRegistration { [weak self] in
            self?.hub.withLock { $0.remove(id) }
        }
        let history: [StoreEvent]
        let snapshotRevision: Int64
        do {
            (history, snapshotRevision) = try await read { db in
                let compacted = try Self.metaValue(db, "compacted")
                if revision < compacted {
                    throw VirtError(.gone, "too old resource version: \(revision) (\(compacted))")
                }
                var sql = "SELECT revision, kind, resource, namespace, name, data FROM events WHERE revision > ?"
                var arguments: StatementArguments = [revision]
                if !scope.resource.isEmpty {
                    sql += " AND resource = ?"
                    _ = arguments.append(contentsOf: [scope.resource])
                }
                if let namespace = scope.namespace {
                    sql += " AND namespace = ?"
                    _ = arguments.append(contentsOf: [namespace])
                }
                if let name = scope.name {
                    sql += " AND name = ?"
                    _ = arguments.append(contentsOf: [name])
                }
                sql += " ORDER BY revision"
                var events: [StoreEvent] = []
                let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
                while let row = try cursor.next() {
                    let key = StoreKey(resource: row[2], namespace: row[3], name: row[4])
                    let kind = StoreEvent.Kind(rawValue: row[1]) ?? .modified
                    let data: String = row[5]
                    events.append(StoreEvent(kind: kind, key: key, revision: row[0], object: try Self.decode(data, key: key), objectJSON: data))
                }
                return (events, try Self.metaValue(db, "revision"))
            }
        } catch {
            registration.cancel()
            throw error
        }
        hub.withLock { $0.goLive(id, history: history, snapshotRevision: snapshotRevision) }
        return registration
    }

    public func compact(toRevision revision: Int64) async throws {
        // A watch whose history read starts after this commits sees the new compaction point and is refused;
        // one that started before reads from its own snapshot, which still has the events.
        try await pool.write { db in
            let compacted = try Self.metaValue(db, "compacted")
            guard revision > compacted else { return }
            try db.execute(sql: "DELETE FROM events WHERE revision <= ?", arguments: [revision])
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'compacted'", arguments: [revision])
        }
    }

    /// Copies the WAL back into the database file now (a passive checkpoint: it never blocks the writer).
    public func checkpoint() async throws {
        _ = try await checkpointer.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }

    // MARK: - Internals

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError.internalError("store read failed: \(error)")
        }
    }

    /// Runs one write transaction on the writer queue and, after it commits and before the next write starts,
    /// hands its event to the watchers.
    private func write(_ body: @escaping @Sendable (Database) throws -> StoreEvent) async throws -> StoreEvent {
        let event: StoreEvent
        do {
            event = try await pool.writeWithoutTransaction { db in
                var event: StoreEvent?
                try db.inTransaction {
                    event = try body(db)
                    return .commit
                }
                guard let event else { throw VirtError.internalError("a store write produced no event") }
                self.hub.withLock { $0.publish(event) }
                return event
            }
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError.internalError("store write failed: \(error)")
        }
        scheduleCheckpointIfDue()
        return event
    }

    /// Every `commitsPerCheckpoint` commits, a checkpoint in two steps. The bulk of the copying, and the sync
    /// of the database file, runs on the checkpointer's own queue while writes go on. Then the few frames
    /// written meanwhile are copied on the writer queue, between two transactions: with every frame copied,
    /// the next write starts the WAL over from its beginning. Without that last step the WAL never restarts
    /// under a steady stream of writes and grows without bound (hundreds of MiB after 20,000 creates).
    private func scheduleCheckpointIfDue() {
        let due = checkpointState.withLock { state -> Bool in
            state.commits += 1
            guard state.commits >= Self.commitsPerCheckpoint, !state.running else { return false }
            state = (0, true)
            return true
        }
        guard due else { return }
        checkpointer.asyncWriteWithoutTransaction { db in
            _ = try? db.checkpoint(.passive)
            self.pool.asyncWriteWithoutTransaction { db in
                _ = try? db.checkpoint(.passive)
                self.checkpointState.withLock { $0.running = false }
            }
        }
    }

    /// The size of the WAL file in bytes (0 when there is none).
    public var walSize: Int {
        (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    }

    private static func metaValue(_ db: Database, _ key: String) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key]) ?? 0
    }

    private static func record(_ db: Database, kind: StoreEvent.Kind, key: StoreKey, revision: Int64, data: String) throws {
        try db.cachedStatement(sql: "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [revision, kind.rawValue, key.resource, key.namespace, key.name, data])
        try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = 'revision'").execute(arguments: [revision])
    }

    private static func fetch(_ db: Database, _ key: StoreKey) throws -> StoredObject? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT revision, data FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
            arguments: [key.resource, key.namespace, key.name])
        else { return nil }
        return StoredObject(key: key, revision: row[0], object: try decode(row[1], key: key))
    }

    /// `fetch` on the writer: the remembered parse when the stored revision matches it. One statement; the
    /// JSON column is only read (and parsed) when the revision does not match.
    private func writerFetch(_ db: Database, _ key: StoreKey) throws -> StoredObject? {
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT revision, data FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
            arguments: [key.resource, key.namespace, key.name])
        guard let row = try rows.next() else { return nil }
        let revision: Int64 = row[0]
        if let known = recent.withLock({ $0[key] }), known.revision == revision {
            return StoredObject(key: key, revision: revision, object: known.object)
        }
        let current = StoredObject(key: key, revision: revision, object: try Self.decode(row[1], key: key))
        remember(key, revision: revision, object: current.object)
        return current
    }

    private func remember(_ key: StoreKey, revision: Int64, object: JSONValue) {
        recent.withLock { recent in
            if recent.count >= Self.recentLimit { recent.removeAll(keepingCapacity: true) }
            recent[key] = (revision, object)
        }
    }

    private static func exists(_ db: Database, _ key: StoreKey) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
            arguments: [key.resource, key.namespace, key.name]) ?? false
    }

    private static func decode(_ data: String, key: StoreKey) throws -> JSONValue {
        do {
            return try JSONValue.parse(Array(data.utf8))
        } catch {
            throw VirtError.internalError("stored object \(key) is corrupt", cause: error)
        }
    }
}

extension StoreEvent {
    var stored: StoredObject { StoredObject(key: key, revision: revision, object: object, objectJSON: objectJSON) }
}

/// Live watchers of a store, guarded by the store's lock. A watcher is held back from its registration until
/// its history has been read: what is published meanwhile waits in its entry.
struct WatchHub: ~Copyable {
    private struct Watcher {
        let scope: StoreScope
        var after: Int64
        let deliver: @Sendable (StoreEvent) -> Void
        /// Events published while the history is read; nil once the watcher is live.
        var held: [StoreEvent]? = []
    }
    private var nextID = 0
    private var watchers: [Int: Watcher] = [:]

    /// Registers a watcher that has every event up to revision `after`, held back until `goLive`.
    mutating func add(scope: StoreScope, after: Int64, deliver: @escaping @Sendable (StoreEvent) -> Void) -> Int {
        nextID += 1
        watchers[nextID] = Watcher(scope: scope, after: after, deliver: deliver)
        return nextID
    }

    /// Hands a held-back watcher its history, then what was published since it registered that the history
    /// (read at `snapshotRevision`) did not have, and makes it live. Nothing when it was removed meanwhile.
    mutating func goLive(_ id: Int, history: [StoreEvent], snapshotRevision: Int64) {
        guard var watcher = watchers[id], let held = watcher.held else { return }
        for event in history { watcher.deliver(event) }
        for event in held where event.revision > snapshotRevision { watcher.deliver(event) }
        watcher.after = max(watcher.after, snapshotRevision, held.last?.revision ?? 0)
        watcher.held = nil
        watchers[id] = watcher
    }

    mutating func remove(_ id: Int) {
        watchers[id] = nil
    }

    mutating func publish(_ event: StoreEvent) {
        for (id, watcher) in watchers where event.revision > watcher.after && watcher.scope.contains(event.key) {
            if watcher.held != nil {
                watchers[id]?.held?.append(event)
            } else {
                watcher.deliver(event)
            }
        }
    }
}
