import VirtAPI
import VirtReconcile

/// The pure parts of a VM's status, as KubeVirt computes them.
public enum VirtualMachineStatusRules {
    /// VMI condition types that are not copied onto the VM (the VM has its own).
    static let notCopied: Set<String> = [KubeVirt.ConditionType.ready, KubeVirt.ConditionType.failure, KubeVirt.ConditionType.restartRequired]

    /// `printableStatus`: the first that applies of Terminating, Stopping, Paused, Running,
    /// ErrorUnschedulable, ErrImagePull, ImagePullBackOff, Starting, CrashLoopBackOff, Stopped (KubeVirt's
    /// precedence). The image states come from the VMI's `Synchronized=False` reason, which the node agent
    /// copies from the launcher pod's waiting container.
    public static func printableStatus(
        vmDeleting: Bool, vmi: VirtualMachineInstance?, vmiDeleting: Bool, startFailure: VirtualMachineStartFailure?, runStrategy: String
    ) -> String {
        let phase = vmi?.status?.phase ?? ""
        let final = KubeVirt.Phase.isFinal(phase)
        let conditions = ConditionList(vmi?.status?.conditions)
        let paused = conditions.has(KubeVirt.ConditionType.paused, status: "True")
        if vmDeleting { return KubeVirt.PrintableStatus.terminating }
        if vmi != nil, !final, vmiDeleting { return KubeVirt.PrintableStatus.stopping }
        if vmi != nil, phase == KubeVirt.Phase.running {
            return paused ? KubeVirt.PrintableStatus.paused : KubeVirt.PrintableStatus.running
        }
        if conditions.has(KubeVirt.ConditionType.podScheduled, status: "False", reason: "Unschedulable") {
            return KubeVirt.PrintableStatus.unschedulable
        }
        if vmi != nil, !final, let synchronized = conditions.get(KubeVirt.ConditionType.synchronized), synchronized.status == "False",
           let reason = synchronized.reason, [KubeVirt.PrintableStatus.errImagePull, KubeVirt.PrintableStatus.imagePullBackOff].contains(reason)
        {
            return reason
        }
        if vmi != nil, ["", KubeVirt.Phase.pending, KubeVirt.Phase.scheduling, KubeVirt.Phase.scheduled].contains(phase) {
            return KubeVirt.PrintableStatus.starting
        }
        if vmi == nil || final,
           (startFailure?.consecutiveFailCount ?? 0) > 0,
           [KubeVirt.RunStrategy.always, KubeVirt.RunStrategy.rerunOnFailure, KubeVirt.RunStrategy.once].contains(runStrategy)
        {
            return KubeVirt.PrintableStatus.crashLoopBackOff
        }
        if vmi == nil || final { return KubeVirt.PrintableStatus.stopped }
        return KubeVirt.PrintableStatus.unknown
    }

    /// `Provisioning` while a DataVolume the VM uses is not `Succeeded` (`DataVolumeError` once one
    /// `Failed`), as KubeVirt reports it, unless the guest runs, is paused, is going away, or is not meant to run.
    public static func provisioningStatus(printable: String, dataVolumePhases: [String?], runStrategy: String) -> String? {
        guard !dataVolumePhases.isEmpty, runStrategy != KubeVirt.RunStrategy.halted,
              [KubeVirt.PrintableStatus.starting, KubeVirt.PrintableStatus.stopped, KubeVirt.PrintableStatus.unknown].contains(printable)
        else { return nil }
        if dataVolumePhases.contains(CDINames.Phase.failed) { return KubeVirt.PrintableStatus.dataVolumeError }
        if dataVolumePhases.allSatisfy({ $0 == CDINames.Phase.succeeded }) { return nil }
        return KubeVirt.PrintableStatus.provisioning
    }

    /// The requests left once those already carried out are removed, front first: `Stop{uid}` once that
    /// VMI is gone (or another exists), `Start` once a live VMI (not deleted, not final) exists.
    public static func trimmedRequests(_ requests: [VirtualMachineStateChangeRequest], vmiUID: String?, vmiLive: Bool) -> [VirtualMachineStateChangeRequest] {
        var remaining = requests
        while let first = remaining.first {
            switch first.action {
            case "Stop":
                guard vmiUID == nil || first.uid == nil || first.uid != vmiUID else { return remaining }
            case "Start":
                guard vmiLive else { return remaining }
            default:
                return remaining
            }
            remaining.removeFirst()
        }
        return remaining
    }

    /// The VM's conditions: `Ready` from the VMI (`False`/`VMINotExists` without one), `Failure` while
    /// the controller cannot act, and the VMI's other conditions copied (dropped when the VMI is gone).
    public static func conditions(current: [Condition]?, vmi: VirtualMachineInstance?, failure: (reason: String, message: String)?, now: String) -> [Condition]? {
        var list = ConditionList(current)
        let vmiConditions = vmi?.status?.conditions ?? []

        var ready: Condition
        if vmi == nil {
            ready = Condition(type: KubeVirt.ConditionType.ready, status: "False", reason: "VMINotExists", message: "VMI does not exist")
        } else if let vmiReady = vmiConditions.first(where: { $0.type == KubeVirt.ConditionType.ready }) {
            ready = Condition(type: KubeVirt.ConditionType.ready, status: vmiReady.status, reason: vmiReady.reason, message: vmiReady.message)
            ready.lastTransitionTime = vmiReady.lastTransitionTime
            ready.lastProbeTime = vmiReady.lastProbeTime
        } else {
            ready = Condition(type: KubeVirt.ConditionType.ready, status: "False", reason: "VMIConditionMissing", message: "VMI is missing the Ready condition")
        }
        set(&list, ready, now: now)

        if let failure {
            set(&list, Condition(type: KubeVirt.ConditionType.failure, status: "True", reason: failure.reason, message: failure.message), now: now)
        } else {
            list.remove(KubeVirt.ConditionType.failure)
        }

        var copied: Set<String> = []
        for condition in vmiConditions where !notCopied.contains(condition.type) {
            copied.insert(condition.type)
            var copy = Condition(type: condition.type, status: condition.status, reason: condition.reason, message: condition.message)
            copy.lastTransitionTime = condition.lastTransitionTime
            copy.lastProbeTime = condition.lastProbeTime
            set(&list, copy, now: now)
        }
        for condition in list.conditions where !notCopied.contains(condition.type) && !copied.contains(condition.type) {
            list.remove(condition.type)
        }
        return list.value
    }

    /// Sets a condition unless an equal one (same status, reason, message) is there already.
    static func set(_ list: inout ConditionList, _ condition: Condition, now: String) {
        if let existing = list.get(condition.type), existing.status == condition.status, existing.reason == condition.reason,
           existing.message == condition.message,
           condition.lastTransitionTime == nil || condition.lastTransitionTime == existing.lastTransitionTime
        {
            return
        }
        list.set(condition, now: now)
    }
}
