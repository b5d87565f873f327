import Logging
import Synchronization
import Testing
import VirtReconcile

@Suite struct WorkQueueTests {
    @Test func aKeyAddedTwiceIsHandedOutOnce() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        await queue.add("a")
        await queue.add("b")
        #expect(await queue.count == 2)
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        #expect(await queue.count == 0)
    }

    @Test func aKeyReaddedWhileProcessingWaitsForDone() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        let first = await queue.next()
        #expect(first == "a")
        await queue.add("a")
        await queue.add("a")
        // Not handed to a second worker while the first holds it.
        #expect(await queue.count == 0)
        #expect(await queue.isProcessing("a"))
        await queue.done("a")
        #expect(await queue.count == 1)
        #expect(await queue.next() == "a")
        await queue.done("a")
        #expect(await queue.count == 0)
    }

    @Test func workersNeverShareAKey() async {
        let queue = WorkQueue<ObjectKey>()
        let probe = ConcurrencyProbe()
        let controller = Controller(name: "probe", reconciler: probe, queue: queue, workers: 4, logger: quietLogger)
        let keys = (0..<3).map { ObjectKey(namespace: "ns", name: "k\($0)") }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while let key = await queue.next() { await controller.process(key) }
                }
            }
            for round in 0..<40 {
                for key in keys { await queue.add(key) }
                if round % 5 == 0 { try? await Task.sleep(for: .milliseconds(2)) }
            }
            while await queue.count > 0 || probe.active > 0 { try? await Task.sleep(for: .milliseconds(5)) }
            try? await Task.sleep(for: .milliseconds(20))
            await queue.shutDown()
        }
        #expect(probe.maxPerKey == 1)
        #expect(probe.total >= 3)
    }

    @Test func backoffDoublesFrom5msTo5Minutes() {
        let backoff = RetryBackoff()
        #expect(backoff.delay(afterFailures: 0) == .milliseconds(5))
        #expect(backoff.delay(afterFailures: 1) == .milliseconds(10))
        #expect(backoff.delay(afterFailures: 2) == .milliseconds(20))
        #expect(backoff.delay(afterFailures: 10) == .milliseconds(5120))
        #expect(backoff.delay(afterFailures: 16) == .seconds(300))
        #expect(backoff.delay(afterFailures: 1000) == .seconds(300))
    }

    @Test func rateLimitedRetriesBackOffPerKey() async throws {
        let queue = WorkQueue<String>(backoff: RetryBackoff(base: .milliseconds(20), max: .seconds(1)))
        await queue.addRateLimited("a")
        #expect(await queue.failureCount("a") == 1)
        #expect(await queue.count == 0)
        let start = ContinuousClock.now
        #expect(await queue.next() == "a")
        #expect(ContinuousClock.now - start >= .milliseconds(15))
        await queue.done("a")

        await queue.addRateLimited("a")  // second failure: 40 ms
        #expect(await queue.failureCount("a") == 2)
        let second = ContinuousClock.now
        #expect(await queue.next() == "a")
        #expect(ContinuousClock.now - second >= .milliseconds(35))
        await queue.done("a")

        await queue.forget("a")
        #expect(await queue.failureCount("a") == 0)
    }

    @Test func delayedAddsArriveAfterTheirDelayEarliestFirst() async throws {
        let queue = WorkQueue<String>()
        await queue.add("late", after: .milliseconds(60))
        await queue.add("soon", after: .milliseconds(10))
        await queue.add("soon", after: .seconds(10))  // a later delay for a pending key is ignored
        #expect(await queue.count == 0)
        #expect(await queue.next() == "soon")
        #expect(await queue.next() == "late")
    }

    @Test func shutDownReleasesWaitingWorkers() async {
        let queue = WorkQueue<String>()
        async let taken = queue.next()
        try? await Task.sleep(for: .milliseconds(10))
        await queue.shutDown()
        #expect(await taken == nil)
        await queue.add("a")
        #expect(await queue.next() == nil)
    }

    @Test func cancellingAWaitingWorkerReturnsNil() async {
        let queue = WorkQueue<String>()
        let task = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(10))
        task.cancel()
        #expect(await task.value == nil)
    }
}

/// Records how many reconciles of each key run at once.
final class ConcurrencyProbe: Reconciler {
    private let state = Mutex<(active: [ObjectKey: Int], maxPerKey: Int, total: Int, running: Int)>(([:], 0, 0, 0))

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        state.withLock { s in
            s.active[key, default: 0] += 1
            s.maxPerKey = max(s.maxPerKey, s.active[key, default: 0])
            s.total += 1
            s.running += 1
        }
        try? await Task.sleep(for: .milliseconds(1))
        state.withLock { s in
            s.active[key, default: 0] -= 1
            s.running -= 1
        }
        return .done
    }

    var maxPerKey: Int { state.withLock { $0.maxPerKey } }
    var total: Int { state.withLock { $0.total } }
    var active: Int { state.withLock { $0.running } }
}
