import Foundation
import VirtAPI
import VirtReconcile

/// When a VM whose VMIs keep failing before they ever run may try again: KubeVirt's start-failure
/// back-off, as pure functions.
///
/// The delay after `n` consecutive start failures is `10 s × 2^(n−1)`, capped at 5 minutes (10 s, 20 s,
/// 40 s, 80 s, 160 s, 300 s, …). KubeVirt's own curve is `10 s × n²` plus up to 50 % random jitter, also
/// capped at 5 minutes; the doubling curve reaches the cap at the same point (the sixth failure) and is
/// deterministic, which keeps tests and the CLI's "retrying in" honest.
///
/// A failure counts when a VMI reaches `Failed` without ever having been `Running` (by its
/// `phaseTransitionTimestamps`); each failed VMI counts once (`lastFailedVMIUID`). A VMI that reaches
/// `Running`, or a run strategy that does not restart (`Manual`, `Halted`), clears the record.
public enum CrashLoopBackoff {
    /// The first delay.
    public static let initialDelay: Duration = .seconds(10)
    /// The longest delay.
    public static let maximumDelay: Duration = .seconds(300)

    /// The delay after `failures` consecutive start failures (≥ 1).
    public static func delay(afterFailures failures: Int) -> Duration {
        var delay = initialDelay
        var step = 1
        while step < failures, delay < maximumDelay {
            delay = delay * 2
            step += 1
        }
        return min(delay, maximumDelay)
    }

    /// Whether the VMI ever reached `Running`.
    public static func everRan(_ vmi: VirtualMachineInstance?) -> Bool {
        vmi?.status?.phaseTransitionTimestamps?.contains { $0.phase == KubeVirt.Phase.running } ?? false
    }

    /// Whether the VMI is final without ever having run: a start failure.
    public static func failedEarly(_ vmi: VirtualMachineInstance?) -> Bool {
        guard let vmi, KubeVirt.Phase.isFinal(vmi.status?.phase) else { return false }
        return vmi.status?.phase == KubeVirt.Phase.failed && !everRan(vmi)
    }

    /// The VM's `status.startFailure` after looking at its current VMI (KubeVirt's
    /// `syncStartFailureStatus`).
    public static func startFailure(
        current: VirtualMachineStartFailure?, vmi: VirtualMachineInstance?, runStrategy: String, now: Date
    ) -> VirtualMachineStartFailure? {
        let restarting = [KubeVirt.RunStrategy.always, KubeVirt.RunStrategy.rerunOnFailure, KubeVirt.RunStrategy.once].contains(runStrategy)
        if everRan(vmi) || !restarting { return nil }
        guard let vmi, failedEarly(vmi) else { return current }
        if let current, current.lastFailedVMIUID == vmi.metadata?.uid, current.lastFailedVMIUID != nil { return current }
        let count = (current?.consecutiveFailCount ?? 0) + 1
        let retryAfter = now.addingTimeInterval(seconds(delay(afterFailures: count)))
        var failure = VirtualMachineStartFailure()
        failure.consecutiveFailCount = count
        failure.lastFailedVMIUID = vmi.metadata?.uid
        failure.retryAfterTimestamp = KubeTime.format(retryAfter)
        return failure
    }

    /// How long until the VM may start again (zero when it may start now).
    public static func timeLeft(_ failure: VirtualMachineStartFailure?, now: Date) -> Duration {
        guard let text = failure?.retryAfterTimestamp, let retryAfter = KubeTime.parse(text) else { return .zero }
        let left = retryAfter.timeIntervalSince(now)
        return left > 0 ? .milliseconds(Int64((left * 1000).rounded(.up))) : .zero
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}
