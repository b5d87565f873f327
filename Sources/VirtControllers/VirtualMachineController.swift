import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// Reconciles VirtualMachines (KubeVirt's VM controller): decides from the run strategy and the pending
/// `status.stateChangeRequests` whether the VM's VirtualMachineInstance should exist, creates it from
/// `spec.template` or deletes it, and reports the VM's status.
///
/// Run strategies, as KubeVirt implements them:
/// - `Always` (or `running: true`): a VMI always exists; a final VMI, or a `Stop` request naming the
///   current VMI, deletes it and a new one is created — after the crash-loop back-off when VMIs keep
///   failing before they run (``CrashLoopBackoff``).
/// - `RerunOnFailure`: a failed VMI is deleted and a `Start` request queued, so it is re-created (with
///   back-off); a succeeded VMI is deleted and not re-created; `Stop` deletes it; with no VMI, a `Start`
///   request (or a switch to this strategy) creates one.
/// - `Once`: a VMI is created once; whatever it ends in, it is not re-created.
/// - `Manual`: only `Start` and `Stop` requests create and delete the VMI.
/// - `Halted` (or `running: false`): no VMI; one is deleted. A `Start` request switches the VM to
///   `Always` (`running: true` for legacy VMs).
///
/// Requests are honoured in order and removed once done: `Stop{uid}` once that VMI is gone, `Start` once
/// a live VMI exists (virt-api's restart writes `[Stop{uid}, Start]`).
///
/// Status: `created`, `ready`, `printableStatus` (Terminating, Stopping, Paused, Running,
/// ErrorUnschedulable, Starting, CrashLoopBackOff, Stopped), `runStrategy`, `observedGeneration` (the
/// VM generation the VMI was made from) and `desiredGeneration`, `startFailure`, and conditions: `Ready`
/// from the VMI, `Failure` when this controller could not act, and the VMI's other conditions (`Paused`,
/// `PodScheduled`, …) copied.
///
/// DataVolumes: each of `spec.dataVolumeTemplates` is created (owned by the VM) before the VMI is; while a
/// DataVolume the VM uses has not `Succeeded`, `printableStatus` is `Provisioning` (`DataVolumeError` once
/// one `Failed`) unless the guest runs.
///
/// Events: `SuccessfulDataVolumeCreate` / `FailedDataVolumeCreate`, `SuccessfulCreate` / `FailedCreate` of the VMI, `SuccessfulDelete` / `FailedDelete`,
/// `CrashLoopBackOff` when a start failure is counted.
public struct VirtualMachineController: Reconciler {
    let client: any APIClient
    let vms: ObjectCache
    let vmis: ObjectCache
    /// DataVolumes, for `spec.dataVolumeTemplates` and `dataVolume` volumes (nil: none are looked at).
    let dataVolumes: ObjectCache?
    let recorder: EventRecorder
    let now: @Sendable () -> Date
    let logger: Logger

    public init(client: any APIClient, vms: ObjectCache, vmis: ObjectCache, dataVolumes: ObjectCache? = nil, recorder: EventRecorder,
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger)
    {
        self.client = client
        self.vms = vms
        self.vmis = vmis
        self.dataVolumes = dataVolumes
        self.recorder = recorder
        self.now = now
        self.logger = logger
    }

    /// The key of the VM a VMI belongs to, for the VMI informer's handler: its controller if that is a
    /// VirtualMachine, else the VM of the same name (which may adopt it).
    public static func ownerKey(ofVMI object: JSONValue) -> ObjectKey? {
        if let owner = object.controllerReference {
            return owner.kind == "VirtualMachine" ? ObjectKey(namespace: object.metadataNamespace, name: owner.name) : nil
        }
        return ObjectKey(object: object)
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = vms.get(key), object.metadataUID != nil else { return .done }
        let vm: VirtualMachine
        do {
            vm = try object.decoded()
        } catch {
            throw TerminalError("VirtualMachine \(key) does not decode", cause: error)
        }
        var sync = VirtualMachineSync(controller: self, key: key, object: object, vm: vm)
        return try await sync.run()
    }
}
