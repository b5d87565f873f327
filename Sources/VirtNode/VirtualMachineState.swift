import VirtError

/// The node agent's record of one VMI's guest on this node: where its lifecycle stands, the role this
/// node plays for it, and what QEMU said before it went away. One per VMI (by UID); the agent moves it
/// only through ``move(to:)``, which refuses transitions the lifecycle does not have.
struct VirtualMachineState: Sendable, Equatable {
    /// Where the guest's lifecycle stands on this node.
    enum Phase: String, Sendable, CaseIterable {
        /// Nothing runs yet (or the last start attempt failed in preparation and will be retried).
        case idle
        /// Volumes and networks are being prepared.
        case preparing
        /// QEMU was started; the monitor has not answered yet.
        case starting
        /// The guest's CPUs run.
        case running
        /// The guest's CPUs are stopped (by the user, or by QEMU after an I/O error).
        case paused
        /// QEMU waits for an incoming migration (the target role).
        case waitingForMigration
        /// The guest was asked to power off; QEMU is killed when the grace period ends.
        case stopping
        /// QEMU ended and its sandbox is gone.
        case stopped
        /// QEMU could not start, crashed or stopped with an internal error.
        case failed

        /// Whether nothing more happens in this phase.
        var isFinal: Bool { self == .stopped || self == .failed }
    }

    /// What this node is for the VMI.
    enum Role: String, Sendable {
        /// The VMI runs here, and no migration concerns it.
        case none
        /// The VMI runs here and migrates away.
        case source
        /// The VMI migrates here from another node: its pod here must never boot the guest anew.
        case target
    }

    /// How QEMU ended, as its last events told.
    enum Ending: String, Sendable {
        /// The guest powered itself off.
        case guestShutdown
        /// The host ended it: a kill, a `quit`, a deleted pod.
        case hostShutdown
        /// The guest panicked.
        case guestPanicked
        /// QEMU stopped the guest with an internal error (KVM could not run it).
        case internalError
    }

    var phase: Phase = .idle
    var role: Role = .none
    /// The launcher pod the guest runs in.
    var podName: String
    var ending: Ending?
    /// Why the launch in this pod failed, until the pod and VMI say so.
    var failure: StartFailure?
    /// When a guest asked to power off is killed if it has not.
    var stopDeadline: ContinuousClock.Instant?

    init(podName: String, role: Role = .none) {
        self.podName = podName
        self.role = role
    }

    /// The transitions the lifecycle has.
    static let transitions: [Phase: Set<Phase>] = [
        .idle: [.preparing, .running, .paused, .waitingForMigration, .stopping, .stopped, .failed],
        .preparing: [.idle, .starting, .stopping, .stopped, .failed],
        .starting: [.running, .paused, .waitingForMigration, .stopping, .stopped, .failed],
        .running: [.paused, .stopping, .stopped, .failed],
        .paused: [.running, .stopping, .stopped, .failed],
        .waitingForMigration: [.running, .paused, .stopping, .stopped, .failed],
        .stopping: [.stopped, .failed],
        .stopped: [],
        .failed: [],
    ]

    /// Moves to `next`; staying in the same phase is allowed and changes nothing.
    ///
    /// - Throws: `VirtError.invalidState` for a transition the lifecycle does not have.
    mutating func move(to next: Phase) throws(VirtError) {
        if next == phase { return }
        guard Self.transitions[phase]?.contains(next) == true else {
            throw VirtError(.invalidState, "the guest in pod \(podName) cannot go from \(phase.rawValue) to \(next.rawValue)")
        }
        phase = next
    }
}
