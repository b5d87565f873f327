import Synchronization

/// When each claim's failed import may run again (by claim UID), for ``VolumeImportHandler``'s back-off:
/// the handler's own writes wake it before the back-off is over, and this tells it to wait.
final class ImportRetrySchedule: Sendable {
    private let times = Mutex<[String: ContinuousClock.Instant]>([:])

    /// The time the claim may be retried, if it waits.
    func time(of uid: String) -> ContinuousClock.Instant? { times.withLock { $0[uid] } }

    /// Sets (or clears, with nil) the claim's retry time.
    func set(_ uid: String, _ time: ContinuousClock.Instant?) { times.withLock { $0[uid] = time } }
}
