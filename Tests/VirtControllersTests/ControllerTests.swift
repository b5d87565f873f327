import Logging
import Synchronization
import Testing
import VirtReconcile

@Suite struct ControllerTests {
    /// Fails a set number of times, then succeeds; or fails terminally; or asks for a requeue.
    final class Scripted: Reconciler {
        enum Mode { case failTimes(Int), terminal, requeue(Duration) }
        let mode: Mode
        private let calls = Mutex(0)
        init(_ mode: Mode) { self.mode = mode }
        var count: Int { calls.withLock { $0 } }

        func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
            let n = calls.withLock { c -> Int in
                c += 1
                return c
            }
            switch mode {
            case .failTimes(let times):
                if n <= times { throw CancellationErrorLike() }
                return .done
            case .terminal:
                throw TerminalError("cannot")
            case .requeue(let delay):
                return n == 1 ? .requeue(after: delay) : .done
            }
        }
    }

    struct CancellationErrorLike: Error {}

    func drive(_ reconciler: Scripted, until done: @escaping @Sendable () -> Bool) async {
        let queue = WorkQueue<ObjectKey>(backoff: RetryBackoff(base: .milliseconds(1), max: .milliseconds(10)))
        let controller = Controller(name: "t", reconciler: reconciler, queue: queue, workers: 1, logger: quietLogger)
        await queue.add(ObjectKey(namespace: "ns", name: "a"))
        let runner = Task { try await controller.run() }
        // Up to 30 s: it returns as soon as `done` holds, and a task can wait seconds for a thread while the
        // suites that boot guests keep both cores busy.
        let deadline = ContinuousClock.now + .seconds(30)
        while !done(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        try? await Task.sleep(for: .milliseconds(30))
        runner.cancel()
        _ = try? await runner.value
    }

    @Test func errorsAreRetriedWithBackoffUntilSuccess() async {
        let reconciler = Scripted(.failTimes(3))
        await drive(reconciler) { reconciler.count >= 4 }
        #expect(reconciler.count == 4)
    }

    @Test func terminalErrorsAreNotRetried() async {
        let reconciler = Scripted(.terminal)
        await drive(reconciler) { reconciler.count >= 1 }
        #expect(reconciler.count == 1)
    }

    @Test func requeueAfterComesBack() async {
        let reconciler = Scripted(.requeue(.milliseconds(20)))
        await drive(reconciler) { reconciler.count >= 2 }
        #expect(reconciler.count == 2)
    }
}
