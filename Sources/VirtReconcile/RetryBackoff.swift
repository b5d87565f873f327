/// Exponential back-off: `base × 2^failures`, capped at `max` (client-go's per-item rate limiter:
/// 5 ms, 10 ms, 20 ms … 5 min by default).
public struct RetryBackoff: Sendable, Equatable {
    /// The delay after the first failure.
    public var base: Duration
    /// The longest delay.
    public var max: Duration

    public init(base: Duration = .milliseconds(5), max: Duration = .seconds(300)) {
        self.base = base
        self.max = max
    }

    /// The delay before retry number `failures + 1` (`failures` = retries already made).
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = base
        var remaining = Swift.max(0, failures)
        while remaining > 0, delay < max {
            delay = delay * 2
            remaining -= 1
        }
        return Swift.min(delay, max)
    }
}
