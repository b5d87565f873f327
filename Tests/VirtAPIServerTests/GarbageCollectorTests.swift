import Foundation
import Logging
import Testing
import VirtAPI
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// The garbage collector over a real SQLite store: it starts from one list of every kind at one revision
/// and watches from that revision, so what is written while it starts is never missed.
@Suite struct GarbageCollectorTests {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let handler: ResourceHandler

    init() async throws {
        directory = try TemporaryDirectory(prefix: "swiftvirt-gc")
        store = try SQLiteStore(path: directory.path + "/store.db")
        handler = ResourceHandler(store: store, registry: .standard)
        try await Bootstrap.ensureNamespaces(handler)
    }

    func target(_ plural: String, _ name: String? = nil) throws -> RequestTarget {
        let type = try #require(Registry.standard.resource(group: "", version: "v1", plural: plural))
        return RequestTarget(type: type, namespace: "default", name: name, subresource: nil)
    }

    /// An owner (a ConfigMap) and a dependent (a Secret that names it).
    func makePair(_ index: Int) async throws {
        let (owner, _) = try await handler.create(
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("owner-\(index)")]],
            target: try target("configmaps"), fieldValidation: nil, dryRun: false)
        let reference: JSONValue = [
            "apiVersion": "v1", "kind": "ConfigMap", "name": .string("owner-\(index)"), "uid": .string(owner.metaUID ?? ""),
        ]
        _ = try await handler.create(
            ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string("dependent-\(index)"), "ownerReferences": [reference]]],
            target: try target("secrets"), fieldValidation: nil, dryRun: false)
    }

    func remainingDependents() async throws -> [String] {
        let page = try await store.list(StoreScope(resource: try target("secrets").type.storeResource, namespace: "default"),
                                        startAfter: nil, limit: 0, filter: nil)
        return page.items.map(\.key.name)
    }

    @Test func dependentsWrittenWhileTheCollectorStartsGoWithTheirOwners() async throws {
        // Pairs made before, while and after the collector starts; every owner is deleted while it starts.
        for index in 0..<10 { try await makePair(index) }
        let collector = GarbageCollector(handler: handler, logger: Logger(label: "gc-test"))
        let running = Task { try await collector.loop() }
        for index in 10..<40 {
            try await makePair(index)
            _ = try await handler.delete(try target("configmaps"), name: "owner-\(index - 10)",
                                         options: ResourceHandler.DeleteOptions(), dryRun: false)
        }
        for index in 30..<40 {
            _ = try await handler.delete(try target("configmaps"), name: "owner-\(index)",
                                         options: ResourceHandler.DeleteOptions(), dryRun: false)
        }
        var remaining = try await remainingDependents()
        for _ in 0..<200 where !remaining.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            remaining = try await remainingDependents()
        }
        running.cancel()
        #expect(remaining == [], "dependents that outlived their owners")
    }

    @Test func listingEverythingReadsEveryResourceAtOneRevision() async throws {
        try await makePair(0)
        let page = try await store.list(.everything, startAfter: nil, limit: 0, filter: nil)
        let revision = try await store.currentRevision()
        #expect(page.revision == revision)
        let resources = Set(page.items.map(\.key.resource))
        #expect(resources.isSuperset(of: ["/configmaps", "/secrets", "/namespaces"]))
        // Paged, it yields the same items in the same order.
        var paged: [StoreKey] = []
        var after: StoreKey?
        repeat {
            let next = try await store.list(.everything, startAfter: after, limit: 2, filter: nil)
            paged += next.items.map(\.key)
            after = next.continueAfter
        } while after != nil
        #expect(paged == page.items.map(\.key))
    }
}
