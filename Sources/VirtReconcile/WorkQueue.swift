/// A controller's queue of keys to reconcile, with client-go's guarantees:
///
/// - **dedup**: a key added many times before a worker takes it is handed out once;
/// - **exclusivity**: a key is never handed to two workers at once; a key added while a worker holds it is
///   handed out again after that worker calls ``done(_:)``;
/// - **rate-limited retry**: ``addRateLimited(_:)`` re-adds a key after `base × 2^failures` (5 ms … 5 min
///   by default), until ``forget(_:)`` resets its count;
/// - **delayed adds**: ``add(_:after:)`` (a reconciler's `requeue(after:)`); of several pending delays for
///   one key the earliest wins.
///
/// Workers loop on ``next()`` until it returns `nil` (after ``shutDown()``, or when the waiting task is
/// cancelled).
public actor WorkQueue<Key: Hashable & Sendable> {
    /// Delays for ``addRateLimited(_:)``.
    public nonisolated let backoff: RetryBackoff

    private var queue: [Key] = []
    private var head = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var failures: [Key: Int] = [:]
    private var waiting: [Key: ContinuousClock.Instant] = [:]
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiterID = 0
    private var timer: Task<Void, Never>?
    private var timerDeadline: ContinuousClock.Instant?
    private var timerGeneration = 0
    private var shuttingDown = false

    public init(backoff: RetryBackoff = RetryBackoff()) {
        self.backoff = backoff
    }

    // MARK: - Adding

    /// Queues a key now (no-op if it is already queued, or after ``shutDown()``).
    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        if processing.contains(key) { return }
        queue.append(key)
        wakeWaiters()
    }

    /// Queues a key once `delay` has passed.
    public func add(_ key: Key, after delay: Duration) {
        guard !shuttingDown else { return }
        if delay <= .zero {
            add(key)
            return
        }
        let deadline = ContinuousClock.now.advanced(by: delay)
        if let existing = waiting[key], existing <= deadline { return }
        waiting[key] = deadline
        armTimer()
    }

    /// Queues a key after its back-off delay and counts one more failure for it.
    public func addRateLimited(_ key: Key) {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        add(key, after: backoff.delay(afterFailures: count))
    }

    /// Resets a key's failure count (after a successful reconcile).
    public func forget(_ key: Key) {
        failures[key] = nil
    }

    /// How many times in a row the key has failed.
    public func failureCount(_ key: Key) -> Int {
        failures[key, default: 0]
    }

    // MARK: - Taking

    /// The next key to process, waiting until there is one. The caller must call ``done(_:)`` with it.
    ///
    /// - Returns: `nil` once the queue is shut down or the calling task is cancelled.
    public func next() async -> Key? {
        while true {
            if shuttingDown || Task.isCancelled { return nil }
            if head < queue.count {
                let key = queue[head]
                head += 1
                if head > 64, head * 2 > queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                dirty.remove(key)
                processing.insert(key)
                return key
            }
            nextWaiterID += 1
            let id = nextWaiterID
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    if Task.isCancelled || shuttingDown {
                        continuation.resume()
                    } else {
                        waiters[id] = continuation
                    }
                }
            } onCancel: {
                Task { await self.wake(id) }
            }
        }
    }

    /// Marks a key as processed; if it was added again meanwhile, it is queued again now.
    public func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key), !shuttingDown {
            queue.append(key)
            wakeWaiters()
        }
    }

    /// Stops handing out keys: every waiting and later ``next()`` returns `nil`.
    public func shutDown() {
        shuttingDown = true
        timer?.cancel()
        timer = nil
        wakeWaiters()
    }

    // MARK: - Introspection

    /// Keys queued and not yet handed out.
    public var count: Int { queue.count - head }

    /// Whether a worker holds the key.
    public func isProcessing(_ key: Key) -> Bool { processing.contains(key) }

    /// Keys waiting for a delay to pass.
    public var delayedCount: Int { waiting.count }

    // MARK: - Internals

    private func wakeWaiters() {
        let all = waiters.values
        waiters.removeAll()
        for waiter in all { waiter.resume() }
    }

    private func wake(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume()
    }

    /// Makes sure a timer fires at the earliest pending deadline.
    private func armTimer() {
        guard !shuttingDown, let earliest = waiting.values.min() else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if timer != nil, let current = timerDeadline, current <= earliest { return }
        timer?.cancel()
        timerDeadline = earliest
        timerGeneration += 1
        let generation = timerGeneration
        timer = Task { [weak self] in
            do {
                try await Task.sleep(until: earliest, clock: .continuous)
            } catch {
                return
            }
            await self?.timerFired(generation)
        }
    }

    private func timerFired(_ generation: Int) {
        guard generation == timerGeneration else { return }
        timer = nil
        timerDeadline = nil
        let now = ContinuousClock.now
        let due = waiting.filter { $0.value <= now }.sorted { $0.value < $1.value }
        for (key, _) in due {
            waiting[key] = nil
            add(key)
        }
        armTimer()
    }
}
