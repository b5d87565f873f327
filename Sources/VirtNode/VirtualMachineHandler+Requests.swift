import VirtAPI
import VirtError
import VirtReconcile

extension VirtualMachineHandler {
    /// Carries out what the API server asked of a running guest: pause and unpause (the VMI's pause
    /// request annotation: `"true"` or `"false"`), and a soft reboot (Ctrl-Alt-Delete, then the request is
    /// removed).
    func carryOutRequests(object: JSONValue, id: String, uid: String, key: ObjectKey, state: inout VirtualMachineState) async throws {
        guard let annotations = object[path: ["metadata", "annotations"]]?.objectValue, let monitor = registry.session(uid) else { return }
        if let wanted = annotations[KubeVirt.pauseRequestAnnotation]?.stringValue {
            let status = try await monitor.queryStatus()
            if wanted == "true", status.running {
                try await monitor.stop()
                state.pausedByUser = true
                registry.update(uid) { $0.runState = "paused" }
                try state.move(to: .paused)
            } else if wanted == "false", !status.running, status.status == "paused" || status.status == "prelaunch" {
                try await monitor.cont()
                state.pausedByUser = false
                registry.update(uid) { $0.runState = "running" }
                try state.move(to: .running)
            }
        }
        if annotations[KubeVirt.softRebootRequestAnnotation] != nil {
            try await monitor.sendKeys(["ctrl", "alt", "delete"])
            let path = KubeVirt.virtualMachineInstances.inNamespace(key.namespace).named(key.name)
            _ = try await client.patch(path, mergePatch: ["metadata": ["annotations": [.init(stringLiteral: KubeVirt.softRebootRequestAnnotation): nil]]])
        }
    }
}
