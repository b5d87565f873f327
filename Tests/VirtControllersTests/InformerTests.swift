import Logging
import Synchronization
import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

@Suite struct InformerTests {
    final class Seen: Sendable {
        let events = Mutex<[String]>([])
        func add(_ e: InformerEvent) { events.withLock { $0.append("\(e.kind.rawValue) \(e.key?.name ?? "")") } }
        var all: [String] { events.withLock { $0 } }
    }

    /// Waits for `condition`, up to 30 s: it returns as soon as the condition holds, and the informer's task
    /// can wait seconds for a thread while the suites that boot guests keep both cores busy.
    func eventually(_ condition: @Sendable () -> Bool) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func listsThenWatchesAndResumesFromTheLastVersion() async throws {
        let client = FakeAPIClient()
        client.seed(vmPath, vmManifest(name: "one"))
        let informer = Informer(client: client, path: KubeVirt.virtualMachines, kind: "VirtualMachine", retry: RetryBackoff(base: .milliseconds(5)), logger: quietLogger)
        let seen = Seen()
        informer.addHandler { seen.add($0) }
        let task = Task { try await informer.run() }
        try await informer.waitUntilSynced()
        #expect(informer.cache.get(ObjectKey(namespace: namespace, name: "one")) != nil)
        #expect(informer.cache.get(ObjectKey(namespace: namespace, name: "one"))?["kind"] == "VirtualMachine")

        await eventually { client.openWatches == 1 }
        _ = try await client.create(vmPath, body: vmManifest(name: "two"))
        await eventually { informer.cache.count == 2 }
        #expect(seen.all == ["added one", "added two"])

        // The server ends the watch: the informer resumes without listing again, and misses nothing.
        client.closeWatches()
        _ = try await client.delete(vmPath.named("one"), propagationPolicy: nil, gracePeriodSeconds: nil)
        await eventually { informer.cache.count == 1 }
        #expect(seen.all == ["added one", "added two", "deleted one"])
        #expect(client.log.filter { $0 == "LIST virtualmachines" }.count == 1)
        task.cancel()
    }

    @Test func relistsWhenTheVersionIsGone() async throws {
        let client = FakeAPIClient()
        client.seed(vmPath, vmManifest(name: "one"))
        // A closed watch that brought nothing is retried after `base`: long enough for the changes below to be
        // made while it is down, even on a loaded machine.
        let informer = Informer(client: client, path: KubeVirt.virtualMachines, retry: RetryBackoff(base: .milliseconds(100)), logger: quietLogger)
        let seen = Seen()
        informer.addHandler { seen.add($0) }
        let task = Task { try await informer.run() }
        try await informer.waitUntilSynced()
        await eventually { client.openWatches == 1 }

        // While the watch is down, objects change and history is compacted: the resume gets 410.
        client.closeWatches()
        client.seed(vmPath, vmManifest(name: "two"))
        _ = try await client.delete(vmPath.named("one"), propagationPolicy: nil, gracePeriodSeconds: nil)
        client.compact()
        await eventually { client.log.filter { $0 == "LIST virtualmachines" }.count == 2 && informer.cache.count == 1 }
        #expect(informer.cache.keys == [ObjectKey(namespace: namespace, name: "two")])
        #expect(seen.all.contains("deleted one"))
        #expect(seen.all.contains("added two"))
        task.cancel()
    }

    @Test func cacheReplaceReportsDifferences() {
        let cache = ObjectCache([["metadata": ["name": "a", "resourceVersion": "1"]], ["metadata": ["name": "b", "resourceVersion": "1"]]])
        let events = cache.replace(with: [["metadata": ["name": "a", "resourceVersion": "2"]], ["metadata": ["name": "c", "resourceVersion": "1"]]])
        #expect(events.map { "\($0.kind.rawValue) \($0.key?.name ?? "")" } == ["modified a", "added c", "deleted b"])
    }
}

@Suite struct EventRecorderTests {
    @Test func repeatsBumpTheCountOfOneEvent() async throws {
        let clock = TestClock()
        let client = FakeAPIClient(now: clock.function)
        let recorder = EventRecorder(client: client, component: "virtualmachine-controller", now: clock.function, logger: quietLogger)
        let vm = client.seed(vmPath, vmManifest())
        await recorder.record(vm, .normal, reason: "SuccessfulCreate", message: "created it")
        clock.advance(seconds: 30)
        await recorder.record(vm, .normal, reason: "SuccessfulCreate", message: "created it")
        await recorder.record(vm, .warning, reason: "FailedCreate", message: "nope")

        let events = client.events()
        #expect(events.count == 2)
        let first = try #require(client.events(reason: "SuccessfulCreate").first)
        #expect(first["count"] == 2)
        #expect(first["type"] == "Normal")
        #expect(first["firstTimestamp"] == "2026-01-01T00:00:00Z")
        #expect(first["lastTimestamp"] == "2026-01-01T00:00:30Z")
        #expect(first[path: ["source", "component"]] == "virtualmachine-controller")
        #expect(first[path: ["involvedObject", "kind"]] == "VirtualMachine")
        #expect(first[path: ["involvedObject", "name"]] == "testvm")
        #expect(first[path: ["involvedObject", "namespace"]] == "default")
        #expect(first[path: ["involvedObject", "apiVersion"]] == "kubevirt.io/v1")
        #expect(first[path: ["involvedObject", "uid"]] == vm[path: ["metadata", "uid"]])
        #expect(first.metadataNamespace == "default")
        #expect(client.events(reason: "FailedCreate").first?["type"] == "Warning")
    }
}

extension InformerTests {
    /// A controller that starts waiting while the first list's handlers still run is woken when the list is
    /// in (it was once left waiting for good, and its workers never started).
    @Test func aWaiterThatArrivesWhileTheFirstListIsHandledIsWoken() async throws {
        let client = FakeAPIClient()
        client.seed(vmPath, vmManifest(name: "one"))
        let informer = Informer(client: client, path: KubeVirt.virtualMachines, kind: "VirtualMachine", retry: RetryBackoff(base: .milliseconds(5)), logger: quietLogger)
        let handlerEntered = Mutex(false)
        let releaseHandler = Mutex(false)
        informer.addHandler { _ in
            handlerEntered.withLock { $0 = true }
            while !releaseHandler.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(2)) }
        }
        let task = Task { try await informer.run() }
        await eventually { handlerEntered.withLock { $0 } }
        // Registered while the handler holds the first list.
        let waiter = Task { try await informer.waitUntilSynced() }
        try await Task.sleep(for: .milliseconds(50))
        releaseHandler.withLock { $0 = true }
        let woken = Mutex(false)
        let watcher = Task {
            try await waiter.value
            woken.withLock { $0 = true }
        }
        await eventually { woken.withLock { $0 } }
        #expect(woken.withLock { $0 }, "the waiter was never resumed")
        watcher.cancel()
        waiter.cancel()
        task.cancel()
    }
}
