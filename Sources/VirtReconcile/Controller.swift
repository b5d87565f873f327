import Logging
import ServiceLifecycle

/// Runs a ``Reconciler`` over a ``WorkQueue`` with `workers` concurrent workers, once the informers it
/// reads from have synced.
///
/// Per key: success forgets the key's failures (and re-adds it after a delay for
/// ``ReconcileResult/requeue(after:)``); an error re-adds it with exponential back-off; a ``TerminalError``
/// drops it. The queue guarantees no key is reconciled by two workers at once.
///
/// `Controller` is a `Service`: ``run()`` returns on cancellation or graceful shutdown (work in flight is
/// cancelled).
public struct Controller<R: Reconciler>: Service {
    /// The controller's name, for logs.
    public let name: String
    public let reconciler: R
    /// The queue its informer handlers add keys to.
    public let queue: WorkQueue<ObjectKey>
    /// Informers whose caches the reconciler reads; workers start once all have synced.
    public let informers: [Informer]
    /// Concurrent workers.
    public let workers: Int
    let logger: Logger

    public init(name: String, reconciler: R, queue: WorkQueue<ObjectKey>, informers: [Informer] = [], workers: Int = 2, logger: Logger) {
        self.name = name
        self.reconciler = reconciler
        self.queue = queue
        self.informers = informers
        self.workers = max(1, workers)
        var logger = logger
        logger[metadataKey: "controller"] = "\(name)"
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            for informer in informers {
                try await informer.waitUntilSynced()
            }
            logger.info("caches synced; starting workers", metadata: ["workers": "\(workers)"])
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask {
                        while let key = await queue.next() {
                            await process(key)
                        }
                    }
                }
            }
            await queue.shutDown()
        }
    }

    /// Reconciles one key taken from the queue and hands it back.
    public func process(_ key: ObjectKey) async {
        do {
            let result = try await reconciler.reconcile(key)
            await queue.forget(key)
            if case .requeue(let delay) = result {
                await queue.add(key, after: delay)
            }
        } catch let error as TerminalError {
            logger.error("reconcile failed; not retrying", metadata: ["key": "\(key)", "error": "\(error)"])
            await queue.forget(key)
        } catch {
            if !(error is CancellationError) {
                let failures = await queue.failureCount(key)
                let level: Logger.Level = failures < 5 ? .debug : .warning
                logger.log(level: level, "reconcile failed; retrying", metadata: ["key": "\(key)", "error": "\(error)", "failures": "\(failures + 1)"])
                await queue.addRateLimited(key)
            }
        }
        await queue.done(key)
    }
}
