import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// One reconcile of one VM: the state it reads, the actions it takes, the status it writes.
struct VirtualMachineSync {
    let controller: VirtualMachineController
    let key: ObjectKey
    let vm: VirtualMachine
    let runStrategy: String
    let now: Date
    /// The VM as last read or written (its resourceVersion is the precondition of the next write).
    var object: JSONValue
    /// The typed status `object` carries.
    var writtenStatus: VirtualMachineStatus?
    var status: VirtualMachineStatus
    /// The VMI as last seen (cache, or the answer of our own create/delete).
    var vmiObject: JSONValue?
    /// The VMI as the pass found it, before acting: start failures are judged on it (KubeVirt keeps a
    /// finalizer on VMIs for this; here the pass remembers).
    var observedVMI: VirtualMachineInstance?
    var syncError: (reason: String, message: String, terminal: Bool)?
    var requeue: ReconcileResult = .done

    init(controller: VirtualMachineController, key: ObjectKey, object: JSONValue, vm: VirtualMachine) {
        self.controller = controller
        self.key = key
        self.vm = vm
        self.object = object
        self.runStrategy = vm.spec.effectiveRunStrategy
        self.now = controller.now()
        self.writtenStatus = vm.status
        self.status = vm.status ?? VirtualMachineStatus()
        self.vmiObject = controller.vmis.get(key)
    }

    var client: any APIClient { controller.client }
    var vmPath: ResourcePath { KubeVirt.virtualMachines.inNamespace(key.namespace).named(key.name) }
    var vmiPath: ResourcePath { KubeVirt.virtualMachineInstances.inNamespace(key.namespace).named(key.name) }
    var vmi: VirtualMachineInstance? { try? vmiObject?.decoded(as: VirtualMachineInstance.self) }
    var vmiDeleting: Bool { vmiObject?.metadataDeletionTimestamp != nil }
    var vmiFinal: Bool { KubeVirt.Phase.isFinal(vmiObject?[path: ["status", "phase"]]?.stringValue) }
    var vmiPhase: String? { vmiObject?[path: ["status", "phase"]]?.stringValue }

    mutating func run() async throws -> ReconcileResult {
        guard try await claimVMI() else { return .requeue(after: .seconds(2)) }
        observedVMI = vmi

        if object.metadataDeletionTimestamp != nil {
            try await stopVMI()
        } else {
            try await createDataVolumes()
            try await syncRunStrategy()
        }

        try await writeStatus()
        if let syncError {
            if syncError.terminal { throw TerminalError(syncError.message) }
            throw VirtError(.internal, syncError.message)
        }
        return requeue
    }

    // MARK: - Ownership

    /// Makes sure the VMI of the VM's name is the VM's: adopts an orphan, waits for one that belongs to
    /// an earlier VM of the same name to be collected. Returns false to wait.
    mutating func claimVMI() async throws -> Bool {
        guard let candidate = vmiObject, let uid = object.metadataUID else { return true }
        if let owner = candidate.controllerReference {
            if owner.uid == uid { return true }
            if owner.kind == "VirtualMachine" {
                // Left by a deleted VM with the same name; the garbage collector removes it.
                vmiObject = nil
                return false
            }
            syncError = ("FailedCreate", "VirtualMachineInstance \(key) is controlled by \(owner.kind) \(owner.name)", true)
            vmiObject = nil
            return true
        }
        guard candidate.metadataDeletionTimestamp == nil else { return true }
        var references = candidate.metadataOwnerReferences
        references.append(ownerReference(uid: uid))
        var patch: JSONValue = ["metadata": ["ownerReferences": .array(references)]]
        if let version = candidate.metadataResourceVersion { patch[path: ["metadata", "resourceVersion"]] = .string(version) }
        vmiObject = try await client.patch(vmiPath, mergePatch: patch)
        return true
    }

    func ownerReference(uid: String) -> JSONValue {
        [
            "apiVersion": .string(KubeVirt.apiVersion), "kind": "VirtualMachine", "name": .string(key.name), "uid": .string(uid),
            "controller": true, "blockOwnerDeletion": true,
        ]
    }

    // MARK: - Run strategies

    var requests: [VirtualMachineStateChangeRequest] { status.stateChangeRequests ?? [] }
    var hasStartRequest: Bool { requests.first?.action == "Start" }
    var hasStopRequestForVMI: Bool {
        guard let first = requests.first, first.action == "Stop", let uid = first.uid else { return false }
        return uid == vmiObject?.metadataUID
    }

    mutating func syncRunStrategy() async throws {
        let hasVMI = vmiObject != nil
        switch runStrategy {
        case KubeVirt.RunStrategy.always:
            if hasVMI {
                if hasStopRequestForVMI || vmiFinal { try await stopVMI() }
            } else {
                try await startAfterBackoff()
            }

        case KubeVirt.RunStrategy.rerunOnFailure:
            if hasVMI {
                let failed = vmiPhase == KubeVirt.Phase.failed
                let succeeded = vmiPhase == KubeVirt.Phase.succeeded
                if !vmiDeleting, hasStopRequestForVMI || failed || succeeded {
                    if failed, !requests.contains(where: { $0.action == "Start" }) {
                        // Written before the delete, so a retry after a lost answer still restarts it.
                        status.stateChangeRequests = requests + [VirtualMachineStateChangeRequest(action: "Start")]
                        try await persistStatus()
                    }
                    try await stopVMI()
                }
            } else if hasStartRequest || status.runStrategy != runStrategy {
                try await startAfterBackoff()
            }

        case KubeVirt.RunStrategy.once:
            if !hasVMI { try await startVMI() }

        case KubeVirt.RunStrategy.manual:
            if hasVMI {
                if hasStopRequestForVMI { try await stopVMI() }
            } else if hasStartRequest {
                try await startVMI()
            }

        case KubeVirt.RunStrategy.halted:
            if hasVMI {
                try await stopVMI()
            } else if hasStartRequest {
                // A start on a halted VM: run it as Always (running: true for legacy specs).
                var updated = object
                if vm.spec.runStrategy != nil {
                    updated[path: ["spec", "runStrategy"]] = .string(KubeVirt.RunStrategy.always)
                } else {
                    updated[path: ["spec", "running"]] = true
                }
                object = try await client.update(vmPath, body: updated)
                writtenStatus = try? object["status"]?.decoded(as: VirtualMachineStatus.self)
            }

        default:
            syncError = ("FailedCreate", "unknown runstrategy: \(runStrategy)", true)
        }
    }

    /// Starts the VMI unless the crash-loop back-off says to wait.
    mutating func startAfterBackoff() async throws {
        let left = CrashLoopBackoff.timeLeft(status.startFailure, now: now)
        if left > .zero {
            controller.logger.info("delaying start: crash-loop back-off", metadata: ["vm": "\(key)", "left": "\(left)"])
            requeue = requeue.merged(with: .requeue(after: left))
            return
        }
        try await startVMI()
    }

    mutating func startVMI() async throws {
        let result: Result<JSONValue, VirtError>
        do throws(VirtError) {
            let body = try vmiFromTemplate()
            result = .success(try await client.create(KubeVirt.virtualMachineInstances.inNamespace(key.namespace), body: body))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let created):
            vmiObject = created
            controller.logger.info("started VM", metadata: ["vm": "\(key)", "vmi": "\(created.metadataUID ?? "")"])
            await controller.recorder.record(object, .normal, reason: "SuccessfulCreate",
                                             message: "Started the virtual machine by creating the new virtual machine instance \(key.name)")
        case .failure(let error) where error.code == .exists:
            // Our cache has not seen a VMI created earlier (or one still being deleted); look again soon.
            requeue = requeue.merged(with: .requeue(after: .seconds(1)))
        case .failure(let error):
            await controller.recorder.record(object, .warning, reason: "FailedCreate",
                                             message: "Error creating virtual machine instance: \(error.message)")
            syncError = ("FailedCreate", "Failure while starting VMI: \(error.message)", error.code == .invalid)
        }
    }

    mutating func stopVMI() async throws {
        guard let current = vmiObject, current.metadataDeletionTimestamp == nil else { return }
        let uid = current.metadataUID ?? ""
        let result: Result<JSONValue, VirtError>
        do throws(VirtError) {
            result = .success(try await client.delete(vmiPath, propagationPolicy: nil, gracePeriodSeconds: nil))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let answer):
            // Still there while finalizers hold it; otherwise gone. (Not a `?:` with `nil`: JSONValue is
            // nil-literal-expressible, so that would store `.null`.)
            if answer.metadataDeletionTimestamp != nil, answer.metadataUID == uid {
                vmiObject = answer
            } else {
                vmiObject = nil
            }
            controller.logger.info("stopped VM", metadata: ["vm": "\(key)", "vmi": "\(uid)"])
            await controller.recorder.record(object, .normal, reason: "SuccessfulDelete",
                                             message: "Stopped the virtual machine by deleting the virtual machine instance \(uid)")
        case .failure(let error) where error.code == .notFound:
            vmiObject = nil
        case .failure(let error):
            await controller.recorder.record(object, .warning, reason: "FailedDelete",
                                             message: "Error deleting virtual machine instance \(key.name): \(error.message)")
            syncError = ("FailedDelete", "Failure attempting to delete VMI: \(error.message)", false)
        }
    }

    /// The VMI to create: `spec.template`, named after the VM and owned by it, with the firmware UUID defaulted.
    func vmiFromTemplate() throws(VirtError) -> JSONValue {
        guard let template = object[path: ["spec", "template"]], var spec = template["spec"], spec.objectValue != nil,
              let uid = object.metadataUID
        else {
            throw VirtError(.invalid, "spec.template.spec is required to start VirtualMachine \(key)")
        }
        var metadata = template["metadata"]?.objectValue ?? [:]
        for field in ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generateName", "generation",
                      "ownerReferences", "finalizers", "managedFields", "selfLink"] {
            metadata[field] = nil
        }
        metadata["name"] = .string(key.name)
        if let namespace = key.namespace { metadata["namespace"] = .string(namespace) }
        var annotations = metadata["annotations"]?.objectValue ?? [:]
        annotations[KubeVirt.vmGenerationAnnotation] = .string(String(object.metadataGeneration ?? 1))
        metadata["annotations"] = .object(annotations)
        metadata["ownerReferences"] = [ownerReference(uid: uid)]
        // KubeVirt's rule: a VM's guests keep one firmware UUID, named after the VM, unless the template sets one.
        if (spec[path: ["domain", "firmware", "uuid"]]?.stringValue ?? "").isEmpty, spec["domain"]?.objectValue != nil {
            spec[path: ["domain", "firmware", "uuid"]] = .string(FirmwareUUID.forVirtualMachine(named: key.name))
        }
        if let first = requests.first, first.action == "Start", first.data?["paused"] == "true" {
            spec["startStrategy"] = "Paused"
        }
        return [
            "apiVersion": .string(KubeVirt.apiVersion), "kind": "VirtualMachineInstance",
            "metadata": .object(metadata), "spec": spec,
        ]
    }

    // MARK: - Status

    /// Writes `status` as it stands now (used before an action whose effect must be recorded first).
    mutating func persistStatus() async throws {
        let updated = try object.replacingStatus(from: writtenStatus, to: status)
        guard updated != object else { return }
        object = try await client.updateStatus(vmPath, body: updated)
        writtenStatus = status
    }

    mutating func writeStatus() async throws {
        let vmi = self.vmi
        let created = vmiObject != nil
        status.created = created
        status.ready = created && ConditionList(vmi?.status?.conditions).has(KubeVirt.ConditionType.ready, status: "True")
        if status.runStrategy != nil || created { status.runStrategy = runStrategy }

        status.stateChangeRequests = VirtualMachineStatusRules.trimmedRequests(
            requests, vmiUID: vmiObject?.metadataUID, vmiLive: created && !vmiDeleting && !vmiFinal)
        if status.stateChangeRequests?.isEmpty == true { status.stateChangeRequests = nil }

        let previousFailure = status.startFailure
        status.startFailure = CrashLoopBackoff.startFailure(
            current: previousFailure, vmi: observedVMI ?? vmi, runStrategy: runStrategy, now: now)
        if let failure = status.startFailure, failure.lastFailedVMIUID != previousFailure?.lastFailedVMIUID {
            let count = failure.consecutiveFailCount ?? 1
            let delay = CrashLoopBackoff.delay(afterFailures: count)
            await controller.recorder.record(object, .warning, reason: "CrashLoopBackOff",
                                             message: "VirtualMachineInstance \(failure.lastFailedVMIUID ?? "") failed before running "
                                                 + "(\(count) in a row); next start in \(delay.components.seconds)s")
        }
        if (vmiObject == nil || vmiFinal), status.startFailure != nil,
           [KubeVirt.RunStrategy.always, KubeVirt.RunStrategy.rerunOnFailure].contains(runStrategy)
        {
            let left = CrashLoopBackoff.timeLeft(status.startFailure, now: now)
            if left > .zero { requeue = requeue.merged(with: .requeue(after: left)) }
        }

        if let vmiObject {
            if let text = vmiObject[path: ["metadata", "annotations", KubeVirt.vmGenerationAnnotation]]?.stringValue, let generation = Int64(text) {
                status.observedGeneration = generation
            }
            status.desiredGeneration = object.metadataGeneration
        }

        status.conditions = VirtualMachineStatusRules.conditions(
            current: status.conditions, vmi: vmi, failure: syncError.map { ($0.reason, $0.message) }, now: KubeTime.format(now))
        status.printableStatus = VirtualMachineStatusRules.printableStatus(
            vmDeleting: object.metadataDeletionTimestamp != nil, vmi: vmi, vmiDeleting: vmiDeleting,
            startFailure: status.startFailure, runStrategy: runStrategy)
        if let provisioning = VirtualMachineStatusRules.provisioningStatus(
            printable: status.printableStatus ?? "", dataVolumePhases: dataVolumePhases, runStrategy: runStrategy)
        {
            status.printableStatus = provisioning
        }

        try await persistStatus()
    }
}
