import VirtAPI
import VirtError
import VirtReconcile

extension VirtualMachineHandler {
    /// Carries out a verb the API server forwards from its subresources (`pause`, `unpause`,
    /// `softreboot`) on the guest of VMI `key`, and returns once it took effect and the VMI says so.
    ///
    /// - Throws: `conflict` when the guest is not in a state the verb applies to (already paused, not
    ///   paused, paused for a soft reboot), `notFound` when no guest of the VMI runs on this node.
    public func carryOut(_ verb: String, key: ObjectKey) async throws {
        var found = vmis.get(key)
        if found == nil { found = try await getIfPresent(KubeVirt.virtualMachineInstances.inNamespace(key.namespace).named(key.name)) }
        guard let object = found, let uid = object.metadataUID else {
            throw VirtError(.notFound, "virtualmachineinstance \(key) not found on node \(nodeName)")
        }
        guard let monitor = registry.session(uid) else {
            throw VirtError(.conflict, "VMI \(key) has no running guest on node \(nodeName)")
        }
        let status = try await monitor.queryStatus()
        switch verb {
        case "pause":
            guard status.running else { throw VirtError(.conflict, "VMI is already paused") }
            try await monitor.stop()
            registry.update(uid) { entry in
                entry.runState = "paused"
                entry.pausedByUser = true
            }
        case "unpause":
            guard !status.running, status.status == "paused" || status.status == "prelaunch" else {
                throw VirtError(.conflict, status.running ? "VMI is not paused" : "VMI cannot be unpaused: QEMU's run state is \(status.status)")
            }
            try await monitor.cont()
            registry.update(uid) { entry in
                entry.runState = "running"
                entry.pausedByUser = false
            }
        case "softreboot":
            guard status.running else { throw VirtError(.conflict, "VMI is paused; unpause it before a soft reboot") }
            // Ctrl-Alt-Delete: the guest's own orderly reboot.
            try await monitor.sendKeys(["ctrl", "alt", "delete"])
            return
        default:
            throw VirtError(.notFound, "the node agent knows no verb \(verb)")
        }
        var vmi: VirtualMachineInstance = try object.decoded()
        try await writeVMIStatus(key: key, uid: uid) { status in
            vmi.status = status
            let paused = self.pausedCondition(object: object, vmi: vmi, uid: uid)
            var conditions = ConditionList(status.conditions)
            if let paused { conditions.set(paused, now: self.timestamp()) } else { conditions.remove(KubeVirt.ConditionType.paused) }
            status.conditions = conditions.value
        }
        await recorder.record(object, .normal, reason: verb == "pause" ? "Paused" : "Unpaused",
                              message: verb == "pause" ? "VirtualMachineInstance paused" : "VirtualMachineInstance unpaused")
    }
}
