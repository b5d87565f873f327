import Foundation
import VirtAPI
import VirtError
import VirtReconcile
import VirtRuntime

extension VirtualMachineHandler {
    /// A pod for a VMI that runs on another node and migrates here. The target never boots the guest: it
    /// holds the pod (finalizer) and reports it waiting, so a second copy of the VM can never start. The
    /// incoming QEMU (`-incoming defer`) and the transfer come with live migration.
    func reconcileTarget(pod: JSONValue, vmi: VirtualMachineInstance, object: JSONValue, key: ObjectKey) async throws -> ReconcileResult {
        let uid = object.metadataUID ?? ""
        let podName = pod.metadataName ?? ""
        var state = registry.state(uid) ?? VirtualMachineState(podName: podName, role: .target)
        state.role = .target
        defer { registry.save(uid, name: key, state) }
        let id = PodSandboxSpec.containerID(namespace: key.namespace ?? "default", name: podName)
        if pod.metadataDeletionTimestamp != nil {
            try await runtimes.pods.stop(id, grace: .zero)
            try await removeFinalizer(pod)
            if !state.phase.isFinal { try state.move(to: .stopped) }
            return .done
        }
        try await addFinalizer(pod)
        if state.phase == .idle { try state.move(to: .waitingForMigration) }
        let message = "pod \(podName) is the migration target of VirtualMachineInstance \(key), which runs on node \(vmi.status?.nodeName ?? "another node"); this node does not take incoming migrations yet"
        try await writePodStatus(pod) { pod in
            let waiting: JSONValue = ["reason": "WaitingForMigration", "message": .string(message)]
            if pod[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting"]] == waiting { return false }
            pod[path: ["status", "phase"]] = "Pending"
            pod[path: ["status", "containerStatuses"]] = [
                ["name": "compute", "ready": false, "started": false, "restartCount": 0, "image": "qemu-system-x86_64", "state": ["waiting": waiting]],
            ]
            return true
        }
        return .done
    }
}
