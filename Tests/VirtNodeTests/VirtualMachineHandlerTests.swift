import Foundation
import Testing
import VirtAPI
import VirtDisk
import VirtError
import VirtNode
import VirtQEMU
import VirtReconcile

@Suite struct VirtualMachineHandlerTests {
    // MARK: - Start

    @Test func aScheduledVMIStartsQEMUInItsPodAndRuns() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()

        let spec = try #require(world.runtime.started.first)
        #expect(spec.id == world.sandboxID)
        let argv = spec.process.arguments
        #expect(argv.first == "qemu-system-x86_64")
        // The firmware UUID is the VM's name-based one, the same that cloud-init gets.
        let uuid = try #require(argv.firstIndex(of: "-uuid").map { argv[$0 + 1] })
        #expect(uuid == FirmwareUUID.forVirtualMachine(named: "testvm"))
        #expect(uuid == CloudInitSeed.firmwareUUID(of: try #require(world.vmi).decoded(as: VirtualMachineInstance.self)))
        #expect(world.volumes.prepared.withLock { $0 } == ["testvm"])
        // The generated MAC hangs on the same stable identity, not on the VMI's UID (new at every restart).
        let mac = QEMUCommand.generatedMACAddress(vmiUID: FirmwareUUID.forVirtualMachine(named: "testvm"), interfaceName: "default")
        #expect(argv.contains { $0.contains("mac=\(mac)") })

        let vmi = try #require(world.vmi)
        #expect(vmi[path: ["status", "phase"]] == "Running")
        #expect(vmi[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue?.last?["phase"] == "Running")
        #expect(vmi[path: ["status", "interfaces"]]?.arrayValue?.first?["name"] == "default")
        #expect(vmi[path: ["status", "interfaces"]]?.arrayValue?.first?["mac"] == .string(mac))
        #expect(vmi[path: ["status", "nodeName"]] == "node-a")  // the controllers' field, untouched
        let pod = try #require(world.pod())
        #expect(pod[path: ["status", "phase"]] == "Running")
        #expect(pod[path: ["status", "hostIP"]] == "192.0.2.10")
        #expect(pod.metadataFinalizers.contains(KubeVirt.nodeAgentFinalizer))
        #expect(world.client.events(reason: "Started").count == 1)

        // A second pass changes nothing and starts nothing.
        world.client.clearLog()
        try await world.reconcile()
        #expect(world.runtime.started.count == 1)
        #expect(!world.client.log.contains { $0.hasPrefix("UPDATE") || $0.hasPrefix("PATCH") })
    }

    @Test func startStrategyPausedStartsQEMUWithItsCPUsStopped() async throws {
        let world = AgentWorld()
        world.seedScheduled { $0[path: ["spec", "startStrategy"]] = "Paused" }
        world.monitor.status.withLock { $0 = (false, "prelaunch") }
        try await world.reconcile()
        #expect(world.runtime.started.first?.process.arguments.contains("-S") == true)
        #expect(world.vmi?[path: ["status", "phase"]] == "Running")
        #expect(world.condition("Paused")?["reason"] == "PausedByUser")
    }

    @Test func aVMIStillBeingScheduledIsNotStarted() async throws {
        let world = AgentWorld()
        world.seedScheduled { $0[path: ["status", "phase"]] = "Scheduling" }
        try await world.reconcile()
        #expect(world.runtime.started.isEmpty)
        #expect(world.vmi?[path: ["status", "phase"]] == "Scheduling")
    }

    @Test func aVMIOfAnotherNodeIsNotStartedHere() async throws {
        let world = AgentWorld(nodeName: "node-b")
        world.seedScheduled(node: "node-a")
        try await world.reconcile()
        #expect(world.runtime.calls.isEmpty)
    }

    // MARK: - Re-adoption

    @Test func aRestartedAgentAdoptsTheRunningGuestInsteadOfStartingItAgain() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        #expect(world.runtime.started.count == 1)

        let restarted = world.restartedHandler()
        try await world.reconcile(with: restarted)
        #expect(world.runtime.started.count == 1)
        #expect(!world.runtime.calls.contains { $0.hasPrefix("stop") })
        #expect(world.vmi?[path: ["status", "phase"]] == "Running")
        // The adopted guest is followed again: the new agent opens its monitor.
        #expect(try await world.eventually { world.connector.connects.withLock { $0 } >= 2 })
    }

    @Test func aGuestLeftRunningBeforeTheVMIWasMarkedRunningIsReported() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        world.runtime.adopt(world.sandboxID)
        try await world.reconcile()
        #expect(world.runtime.started.isEmpty)
        #expect(world.vmi?[path: ["status", "phase"]] == "Running")
    }

    // MARK: - QEMU's state

    @Test func qemuDyingFailsThePodAndTheVMI() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        world.monitor.send("SHUTDOWN", ["guest": false, "reason": "host-signal"])
        world.runtime.processExited(world.sandboxID)
        world.monitor.close()
        #expect(try await world.eventually { world.vmi?[path: ["status", "phase"]] == "Failed" })
        #expect(world.pod()?[path: ["status", "phase"]] == "Failed")
        #expect(world.runtime.calls.contains("stop \(world.sandboxID)"))
        #expect(world.networks.detached.withLock { $0 }.contains(world.sandboxID))
    }

    @Test func aGuestThatPowersItselfOffSucceeds() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        world.monitor.send("SHUTDOWN", ["guest": true, "reason": "guest-shutdown"])
        world.runtime.processExited(world.sandboxID)
        world.monitor.close()
        #expect(try await world.eventually { world.vmi?[path: ["status", "phase"]] == "Succeeded" })
        #expect(world.pod()?[path: ["status", "phase"]] == "Succeeded")
        #expect(world.vmi?[path: ["status", "phaseTransitionTimestamps"]]?.arrayValue?.last?["phase"] == "Succeeded")
    }

    @Test func anInternalErrorStopFailsTheVMIWithQEMUsWords() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        world.runtime.state.withLock { $0.stderr[world.sandboxID] = "KVM internal error. Suberror: 1" }
        world.monitor.status.withLock { $0 = (false, "internal-error") }
        world.monitor.send("STOP")
        #expect(try await world.eventually { world.vmi?[path: ["status", "phase"]] == "Failed" })
        #expect(world.condition("Paused") == nil)  // nobody paused it
        let message = world.pod()?[path: ["status", "message"]]?.stringValue ?? ""
        #expect(message.contains("internal error"))
        #expect(message.contains("KVM internal error. Suberror: 1"))
        #expect(world.runtime.calls.contains("stop \(world.sandboxID)"))
    }

    @Test func anIOErrorPauseIsPausedIOErrorNotPausedByUser() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        world.monitor.status.withLock { $0 = (false, "io-error") }
        world.monitor.send("STOP")
        #expect(try await world.eventually { world.condition("Paused")?["reason"] == "PausedIOError" })
        #expect(world.vmi?[path: ["status", "phase"]] == "Running")
    }

    // MARK: - Requests

    @Test func pauseAndUnpauseAnswerOnceTheyTookEffectAndAreTheUsers() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        try await world.handler.carryOut("pause", key: world.key)
        #expect(world.monitor.sent.contains("stop"))
        // Said on the VMI before the verb returns.
        #expect(world.condition("Paused")?["reason"] == "PausedByUser")
        await #expect(throws: VirtError.self) { try await world.handler.carryOut("pause", key: world.key) }
        await #expect(throws: VirtError.self) { try await world.handler.carryOut("softreboot", key: world.key) }

        // A pass after an agent restart keeps it the user's.
        try await world.reconcile(with: world.restartedHandler())
        #expect(world.condition("Paused")?["reason"] == "PausedByUser")

        try await world.handler.carryOut("unpause", key: world.key)
        #expect(world.monitor.sent.contains("cont"))
        #expect(world.condition("Paused") == nil)
        await #expect(throws: VirtError.self) { try await world.handler.carryOut("unpause", key: world.key) }
    }

    @Test func aSoftRebootSendsCtrlAltDelete() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        try await world.handler.carryOut("softreboot", key: world.key)
        #expect(world.monitor.sent.filter { $0 == "send-key ctrl-alt-delete" }.count == 1)
    }

    @Test func aVerbForAGuestThatDoesNotRunHereIsRefused() async throws {
        let world = AgentWorld()
        world.seedScheduled { $0[path: ["status", "phase"]] = "Scheduling" }
        try await world.reconcile()
        do {
            try await world.handler.carryOut("pause", key: world.key)
            Issue.record("a pause without a guest succeeded")
        } catch {
            #expect((error as? VirtError)?.code == .conflict)
        }
    }

    // MARK: - Deletion

    @Test func aDeletedPodGetsAnACPIShutdownThenIsKilledAndReleased() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        _ = try await world.client.delete(AgentWorld.podPath.named("virt-launcher-testvm-abcde"), propagationPolicy: nil, gracePeriodSeconds: 1)
        #expect(world.pod()?.metadataDeletionTimestamp != nil)  // held by the agent's finalizer
        // The guest is asked, and the pass does not wait for it: it comes back.
        let first = try await world.reconcile()
        #expect(world.monitor.sent.contains("system_powerdown"))
        guard case .requeue(let after) = first else {
            Issue.record("the first pass of a deletion returned \(first), not a requeue")
            return
        }
        #expect(after <= .seconds(1))
        #expect(!world.runtime.calls.contains("stop \(world.sandboxID)"))
        // The guest ignores the power button: once the grace period (1 s) is over, it is killed.
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await world.reconcile() == .done)
        #expect(world.runtime.calls.last == "stop \(world.sandboxID)")
        #expect(world.pod() == nil)  // finalizer removed, the pod is gone
        #expect(world.vmi?[path: ["status", "phase"]] == "Failed")
        #expect(world.monitor.sent.filter { $0 == "system_powerdown" }.count == 1)
    }

    @Test func aDeletedPodWhoseGuestPowersOffIsReleasedAtOnce() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        // A grace period far longer than the test: only the guest's own power-off can release the pod in time.
        var pod = try #require(world.pod())
        pod[path: ["spec", "terminationGracePeriodSeconds"]] = 300
        world.client.seed(AgentWorld.podPath, pod)
        try await world.reconcile()
        _ = try await world.client.delete(AgentWorld.podPath.named("virt-launcher-testvm-abcde"), propagationPolicy: nil, gracePeriodSeconds: 30)
        try await world.reconcile()
        #expect(world.monitor.sent.contains("system_powerdown"))
        // The guest powers off: QEMU says so and exits.
        world.monitor.send("SHUTDOWN", ["guest": true, "reason": "guest-shutdown"])
        world.runtime.processExited(world.sandboxID)
        world.monitor.close()
        #expect(try await world.eventually { world.pod() == nil })
        #expect(world.runtime.calls.contains("stop \(world.sandboxID)"))
    }

    @Test func aPodWhoseVMIIsGoneIsStoppedAndReleased() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        try await world.reconcile()
        world.client.state.withLock { state in
            state.objects = state.objects.filter { $0.key.resource != "virtualmachineinstances" }
        }
        try await world.reconcile()
        #expect(world.runtime.calls.contains("stop \(world.sandboxID)"))
        #expect(world.pod()?.metadataFinalizers.contains(KubeVirt.nodeAgentFinalizer) == false)
    }

    @Test func aScheduledVMIWhosePodIsGoneFails() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        world.client.state.withLock { state in
            state.objects = state.objects.filter { $0.key.resource != "pods" }
        }
        try await world.reconcile()
        #expect(world.vmi?[path: ["status", "phase"]] == "Failed")
        #expect(world.vmi?[path: ["status", "reason"]] == "PodDisappeared")
    }

    // MARK: - Failures reach the user

    @Test func anImageThatCannotBeHadLeavesThePodWaitingAndSaysWhy() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        world.volumes.failure.withLock {
            let pull = ContainerDiskError.pullFailed(image: "quay.io/x", error: .notFound(reference: "quay.io/x:latest", message: "MANIFEST_UNKNOWN: manifest unknown"))
            $0 = VirtError(.invalid, pull.description, cause: pull)
        }
        let result = try await world.reconcile()
        #expect(result == .requeue(after: .seconds(10)))
        #expect(world.runtime.started.isEmpty)
        let waiting = world.pod()?[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting"]]
        #expect(waiting?["reason"] == "ErrImagePull")
        #expect(world.pod()?[path: ["status", "phase"]] == "Pending")
        let synchronized = try #require(world.condition("Synchronized"))
        #expect(synchronized["status"] == "False")
        #expect(synchronized["reason"] == "ErrImagePull")
        #expect(synchronized["message"]?.stringValue == "failed to pull image \"quay.io/x\": pulling quay.io/x:latest: not found: MANIFEST_UNKNOWN: manifest unknown")
        #expect(world.vmi?[path: ["status", "phase"]] == "Scheduled")

        // Still failing: the pull backs off.
        try await world.reconcile()
        #expect(world.condition("Synchronized")?["reason"] == "ImagePullBackOff")

        // Fixed: it starts, and the condition goes.
        world.volumes.failure.withLock { $0 = nil }
        try await world.reconcile()
        #expect(world.vmi?[path: ["status", "phase"]] == "Running")
        #expect(world.condition("Synchronized") == nil)
    }

    @Test func aClaimThatIsMissingOrUnboundKeepsThePodWaitingThenItsVolumeIsPrepared() async throws {
        let world = AgentWorld()
        world.seedScheduled { vmi in
            vmi[path: ["spec", "volumes"]] = [["name": "root", "persistentVolumeClaim": ["claimName": "root-disk"]]]
        }
        let claims = StorageNames.claims.inNamespace("default")
        #expect(try await world.reconcile() == .requeue(after: .seconds(10)))
        #expect(world.runtime.started.isEmpty)
        #expect(world.condition("Synchronized")?["reason"] == "CreateContainerConfigError")
        #expect(world.condition("Synchronized")?["message"]?.stringValue?.hasPrefix("persistentvolumeclaim \"root-disk\" not found") == true)

        world.client.seed(claims, ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "root-disk"],
                                   "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
                                   "status": ["phase": "Pending"]])
        #expect(try await world.reconcile() == .requeue(after: .seconds(10)))
        #expect(world.condition("Synchronized")?["message"]?.stringValue?.hasPrefix("persistentvolumeclaim \"root-disk\" is not bound yet") == true)

        world.client.seed(StorageNames.volumes, [
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": "pvc-1"],
            "spec": ["csi": ["driver": .string(StorageNames.localProvisioner), "volumeHandle": "pvc-1"], "volumeMode": "Block",
                     "capacity": ["storage": "1Gi"],
                     "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [[
                         "key": "kubernetes.io/hostname", "operator": "In", "values": ["node-a"]]]]]]]],
        ])
        world.client.seed(claims, ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "root-disk"],
                                   "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]], "volumeName": "pvc-1"],
                                   "status": ["phase": "Bound", "capacity": ["storage": "1Gi"]]])
        try await world.reconcile()
        #expect(world.vmi?[path: ["status", "phase"]] == "Running")
        #expect(world.volumes.claims.withLock { $0 } == [
            "root-disk": ClaimedVolume(claimName: "root-disk", volumeName: "pvc-1", path: VolumeDirectories().local + "/pvc-1",
                                       mode: .block, capacity: 1 << 30),
        ])
    }

    @Test func qemuThatDoesNotStartFailsTheVMIWithTheReason() async throws {
        let world = AgentWorld()
        world.seedScheduled()
        world.runtime.state.withLock { state in
            state.startError = VirtError(.internal, "runc run failed")
            state.stderr[world.sandboxID] = "qemu-system-x86_64: -drive: Could not open disk"
        }
        try await world.reconcile()
        #expect(world.vmi?[path: ["status", "phase"]] == "Failed")
        let synchronized = try #require(world.condition("Synchronized"))
        #expect(synchronized["status"] == "False")
        #expect(synchronized["message"]?.stringValue == "runc run failed; QEMU said: qemu-system-x86_64: -drive: Could not open disk")
        #expect(world.pod()?[path: ["status", "phase"]] == "Failed")
        #expect(world.client.events(reason: "SyncFailed").count == 1)
    }

    // MARK: - Roles

    @Test func aSecondPodForTheVMIHereIsAMigrationTargetAndNeverBootsTheGuest() async throws {
        let world = AgentWorld(nodeName: "node-b")
        let (vmi, _) = world.seedScheduled(node: "node-a") { vmi in
            vmi[path: ["status", "phase"]] = "Running"
        }
        world.seedPod(name: "virt-launcher-testvm-target", node: "node-b", vmiUID: vmi.metadataUID ?? "",
                      labels: [KubeVirt.migrationJobLabel: "mig-1"])
        try await world.reconcile()
        #expect(world.runtime.started.isEmpty)
        let target = try #require(world.pod("virt-launcher-testvm-target"))
        #expect(target.metadataFinalizers.contains(KubeVirt.nodeAgentFinalizer))
        #expect(target[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting", "reason"]] == "WaitingForMigration")
        // Held in its own phase: a later pass neither starts a guest nor fails.
        try await world.reconcile()
        #expect(world.runtime.started.isEmpty)
        // The source's VMI is not touched by the target node.
        #expect(world.vmi?[path: ["status", "phase"]] == "Running")
        #expect(world.vmi?[path: ["status", "nodeName"]] == "node-a")
    }

    @Test func whichVMIsConcernANode() {
        let here: JSONValue = ["status": ["nodeName": "node-a"]]
        let target: JSONValue = ["status": ["nodeName": "node-b", "migrationState": ["targetNode": "node-a", "sourceNode": "node-b"]]]
        let elsewhere: JSONValue = ["status": ["nodeName": "node-b"]]
        #expect(VirtualMachineHandler.concerns(here, nodeName: "node-a"))
        #expect(VirtualMachineHandler.concerns(target, nodeName: "node-a"))
        #expect(!VirtualMachineHandler.concerns(elsewhere, nodeName: "node-a"))
        #expect(!VirtualMachineHandler.concerns(["status": [:]], nodeName: "node-a"))
    }
}
