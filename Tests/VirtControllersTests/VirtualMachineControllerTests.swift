import Foundation
import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile

@Suite struct VirtualMachineControllerTests {
    /// The VMI as the agent would leave it: phase and transitions.
    func setVMIPhase(_ world: World, _ phase: String, ran: Bool = true, ready: Bool = false) {
        world.editVMI { vmi in
            var transitions: [JSONValue] = [["phase": "Pending"], ["phase": "Scheduling"], ["phase": "Scheduled"]]
            if ran { transitions.append(["phase": "Running"]) }
            if phase != "Running" { transitions.append(["phase": .string(phase)]) }
            vmi[path: ["status", "phase"]] = .string(phase)
            vmi[path: ["status", "phaseTransitionTimestamps"]] = .array(transitions)
            if ready { vmi[path: ["status", "conditions"]] = [["type": "Ready", "status": "True"]] }
        }
    }

    func requests(_ world: World) -> [JSONValue] {
        world.vm()?[path: ["status", "stateChangeRequests"]]?.arrayValue ?? []
    }

    // MARK: - Identity

    @Test func theVMIGetsAFirmwareUUIDNamedAfterTheVMUnlessTheTemplateSetsOne() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()
        let uuid = try #require(world.vmi()?[path: ["spec", "domain", "firmware", "uuid"]]?.stringValue)
        // The version 5 UUID of the name in KubeVirt's namespace (Python: uuid.uuid5(UUID('6a1a24a1-…'), 'testvm')).
        #expect(uuid == "5a9fc181-957e-5c32-9e5a-2de5e9673531")
        #expect(FirmwareUUID.forVirtualMachine(named: "testvm") == uuid)
        #expect(FirmwareUUID.forVirtualMachine(named: "other") != uuid)

        let other = World()
        var manifest = vmManifest()
        manifest[path: ["spec", "template", "spec", "domain", "firmware", "uuid"]] = "5d307ca9-b3ef-428c-8861-06e72d69f223"
        other.client.seed(vmPath, manifest)
        try await other.reconcileVM()
        #expect(other.vmi()?[path: ["spec", "domain", "firmware", "uuid"]] == "5d307ca9-b3ef-428c-8861-06e72d69f223")
    }

    // MARK: - Always

    @Test func alwaysCreatesTheVMIFromTheTemplate() async throws {
        let world = World()
        let vm = world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()

        let vmi = try #require(world.vmi())
        #expect(vmi.metadataName == "testvm")
        #expect(vmi.metadataNamespace == "default")
        #expect(vmi[path: ["metadata", "labels", "app"]] == "demo")
        #expect(vmi[path: ["metadata", "labels", "kubevirt.io/vm"]] == "testvm")
        #expect(vmi[path: ["metadata", "annotations", "note"]] == "from-template")
        #expect(vmi[path: ["metadata", "annotations", "kubevirt.io/vm-generation"]] == "1")
        let owner = try #require(vmi.metadataOwnerReferences.first)
        #expect(owner["kind"] == "VirtualMachine")
        #expect(owner["apiVersion"] == "kubevirt.io/v1")
        #expect(owner["name"] == "testvm")
        #expect(owner["uid"] == vm[path: ["metadata", "uid"]])
        #expect(owner["controller"] == true)
        #expect(owner["blockOwnerDeletion"] == true)
        #expect(vmi[path: ["spec", "domain", "memory", "guest"]] == "256Mi")

        let status = try #require(world.vm()?["status"])
        #expect(status["created"] == true)
        #expect(status["ready"] == false)
        #expect(status["printableStatus"] == "Starting")
        #expect(status["runStrategy"] == "Always")
        #expect(status["observedGeneration"] == 1)
        #expect(status["desiredGeneration"] == 1)
        #expect(world.vm()?.condition("Ready")?["reason"] == "VMIConditionMissing")
        let event = try #require(world.client.events(reason: "SuccessfulCreate").first)
        #expect(event["message"] == "Started the virtual machine by creating the new virtual machine instance testvm")
        #expect(event[path: ["involvedObject", "kind"]] == "VirtualMachine")
    }

    @Test func runningReadyVMIMakesTheVMRunningAndReady() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()
        setVMIPhase(world, "Running", ready: true)
        try await world.reconcileVM()
        #expect(world.vm()?.printableStatus == "Running")
        #expect(world.vm()?[path: ["status", "ready"]] == true)
        #expect(world.vm()?.condition("Ready")?["status"] == "True")

        world.editVMI { $0[path: ["status", "conditions"]] = [["type": "Ready", "status": "True"], ["type": "Paused", "status": "True", "reason": "PausedByUser"]] }
        try await world.reconcileVM()
        #expect(world.vm()?.printableStatus == "Paused")
        #expect(world.vm()?.condition("Paused")?["reason"] == "PausedByUser")

        world.editVMI { $0[path: ["status", "conditions"]] = [["type": "Ready", "status": "True"]] }
        try await world.reconcileVM()
        #expect(world.vm()?.printableStatus == "Running")
        #expect(world.vm()?.condition("Paused") == nil)
    }

    @Test func alwaysRestartsAVMIThatFailedAfterRunningAtOnce() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()
        let firstUID = try #require(world.vmi()?.metadataUID)
        setVMIPhase(world, "Failed", ran: true)

        try await world.reconcileVM()
        #expect(world.vmi() == nil)  // deleted (no finalizer in this test)
        #expect(world.vm()?[path: ["status", "startFailure"]] == nil)
        #expect(world.client.events(reason: "SuccessfulDelete").first?["message"]
            == .string("Stopped the virtual machine by deleting the virtual machine instance \(firstUID)"))

        let result = try await world.reconcileVM()
        #expect(result == .done)
        let second = try #require(world.vmi())
        #expect(second.metadataUID != firstUID)
    }

    @Test func alwaysBacksOffWhenVMIsFailBeforeRunning() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()
        let firstUID = try #require(world.vmi()?.metadataUID)
        setVMIPhase(world, "Failed", ran: false)

        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        let failure = try #require(world.vm()?[path: ["status", "startFailure"]])
        #expect(failure["consecutiveFailCount"] == 1)
        #expect(failure["lastFailedVMIUID"] == .string(firstUID))
        #expect(failure["retryAfterTimestamp"] == "2026-01-01T00:00:10Z")
        #expect(world.vm()?.printableStatus == "CrashLoopBackOff")
        #expect(world.client.events(reason: "CrashLoopBackOff").count == 1)

        // Within the back-off: no VMI, and the controller asks to look again when it ends.
        world.clock.advance(seconds: 4)
        let waiting = try await world.reconcileVM()
        #expect(waiting == .requeue(after: .seconds(6)))
        #expect(world.vmi() == nil)
        #expect(world.vm()?.printableStatus == "CrashLoopBackOff")

        world.clock.advance(seconds: 6)
        try await world.reconcileVM()
        #expect(world.vmi() != nil)
        #expect(world.vm()?.printableStatus == "Starting")

        // A second early failure doubles the wait; reaching Running clears the record.
        setVMIPhase(world, "Failed", ran: false)
        try await world.reconcileVM()
        #expect(world.vm()?[path: ["status", "startFailure", "consecutiveFailCount"]] == 2)
        #expect(world.vm()?[path: ["status", "startFailure", "retryAfterTimestamp"]] == "2026-01-01T00:00:30Z")
        world.clock.advance(seconds: 20)
        try await world.reconcileVM()
        setVMIPhase(world, "Running")
        try await world.reconcileVM()
        #expect(world.vm()?[path: ["status", "startFailure"]] == nil)
        #expect(world.vm()?.printableStatus == "Running")
    }

    @Test func restartRequestReplacesTheVMIAndIsCleared() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()
        setVMIPhase(world, "Running", ready: true)
        // The VMI carries the VMI controller's finalizer, so its deletion is visible for a while.
        world.editVMI { $0[path: ["metadata", "finalizers"]] = ["kubevirt.io/foregroundDeleteVirtualMachine"] }
        let oldUID = try #require(world.vmi()?.metadataUID)
        world.editVM { $0[path: ["status", "stateChangeRequests"]] = [["action": "Stop", "uid": .string(oldUID)], ["action": "Start"]] }

        try await world.reconcileVM()
        #expect(world.vmi()?.metadataDeletionTimestamp != nil)
        #expect(world.vm()?.printableStatus == "Stopping")
        #expect(requests(world).count == 2)

        // The VMI controller lets it go once its pod is gone.
        _ = try await world.client.patch(vmiPath.named("testvm"), mergePatch: ["metadata": ["finalizers": []]])
        #expect(world.vmi() == nil)

        try await world.reconcileVM()
        let newVMI = try #require(world.vmi())
        #expect(newVMI.metadataUID != oldUID)
        #expect(requests(world).isEmpty)
        #expect(world.vm()?.printableStatus == "Starting")
    }

    @Test func legacyRunningFieldMapsToAlwaysAndHalted() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest(runStrategy: nil, running: true))
        try await world.reconcileVM()
        #expect(world.vmi() != nil)
        #expect(world.vm()?[path: ["status", "runStrategy"]] == "Always")

        world.editVM { $0[path: ["spec", "running"]] = false }
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        try await world.reconcileVM()
        #expect(world.vm()?.printableStatus == "Stopped")
        #expect(world.vm()?[path: ["status", "created"]] == false)
        #expect(world.vm()?[path: ["status", "runStrategy"]] == "Halted")
    }

    // MARK: - Halted

    @Test func haltedDeletesTheVMIAndShowsStoppingThenStopped() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest(runStrategy: "Halted"))
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        #expect(world.vm()?.printableStatus == "Stopped")
        #expect(world.vm()?.condition("Ready")?["reason"] == "VMINotExists")

        // A VMI left running (say the strategy just changed) is stopped.
        world.client.seed(vmiPath, vmiManifest { vmi in
            vmi[path: ["metadata", "finalizers"]] = ["kubevirt.io/foregroundDeleteVirtualMachine"]
            vmi[path: ["status", "phase"]] = "Running"
        })
        try await world.reconcileVM()  // adopts it
        try await world.reconcileVM()
        #expect(world.vmi()?.metadataDeletionTimestamp != nil)
        #expect(world.vm()?.printableStatus == "Stopping")
    }

    @Test func startOnAHaltedVMSwitchesItToAlways() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest(runStrategy: "Halted"))
        world.editVM { $0[path: ["status", "stateChangeRequests"]] = [["action": "Start"]] }
        try await world.reconcileVM()
        #expect(world.vm()?[path: ["spec", "runStrategy"]] == "Always")
        try await world.reconcileVM()
        #expect(world.vmi() != nil)
        #expect(requests(world).isEmpty)
    }

    // MARK: - Manual

    @Test func manualFollowsStartAndStopRequestsOnly() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest(runStrategy: "Manual"))
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        #expect(world.vm()?.printableStatus == "Stopped")

        world.editVM { $0[path: ["status", "stateChangeRequests"]] = [["action": "Start"]] }
        try await world.reconcileVM()
        let uid = try #require(world.vmi()?.metadataUID)
        #expect(requests(world).isEmpty)

        // A failed VMI stays failed under Manual.
        setVMIPhase(world, "Failed", ran: true)
        try await world.reconcileVM()
        #expect(world.vmi()?.phase == "Failed")
        #expect(world.vm()?.printableStatus == "Stopped")

        world.editVM { $0[path: ["status", "stateChangeRequests"]] = [["action": "Stop", "uid": .string(uid)]] }
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        try await world.reconcileVM()
        #expect(requests(world).isEmpty)
    }

    @Test func manualRestartTakesTwoPasses() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest(runStrategy: "Manual"))
        world.editVM { $0[path: ["status", "stateChangeRequests"]] = [["action": "Start"]] }
        try await world.reconcileVM()
        setVMIPhase(world, "Running")
        let uid = try #require(world.vmi()?.metadataUID)
        world.editVM { $0[path: ["status", "stateChangeRequests"]] = [["action": "Stop", "uid": .string(uid)], ["action": "Start"]] }
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        try await world.reconcileVM()  // Stop done: trimmed, Start now first
        try await world.reconcileVM()
        #expect(world.vmi() != nil)
        #expect(world.vmi()?.metadataUID != uid)
        #expect(requests(world).isEmpty)
    }

    // MARK: - RerunOnFailure

    @Test func rerunOnFailureRestartsFailuresButNotSuccesses() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest(runStrategy: "RerunOnFailure"))
        try await world.reconcileVM()
        let first = try #require(world.vmi()?.metadataUID)

        setVMIPhase(world, "Failed", ran: true)
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        #expect(requests(world).map { $0["action"] } == ["Start"])
        try await world.reconcileVM()
        let second = try #require(world.vmi()?.metadataUID)
        #expect(second != first)
        #expect(requests(world).isEmpty)

        setVMIPhase(world, "Succeeded", ran: true)
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        try await world.reconcileVM()
        #expect(world.vmi() == nil)
        #expect(world.vm()?.printableStatus == "Stopped")
    }

    // MARK: - Once

    @Test func onceRunsOneVMIAndNeverAgain() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest(runStrategy: "Once"))
        try await world.reconcileVM()
        let uid = try #require(world.vmi()?.metadataUID)
        setVMIPhase(world, "Failed", ran: true)
        try await world.reconcileVM()
        #expect(world.vmi()?.metadataUID == uid)
        #expect(world.vmi()?.phase == "Failed")
        #expect(world.vm()?.printableStatus == "Stopped")
        #expect(world.vm()?[path: ["status", "created"]] == true)
    }

    // MARK: - Scheduling problems

    @Test func unschedulableVMIShowsErrorUnschedulable() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()
        let message = "0/1 nodes are available: 1 Insufficient memory."
        world.editVMI { vmi in
            vmi[path: ["status", "phase"]] = "Scheduling"
            vmi[path: ["status", "conditions"]] = [["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message)]]
        }
        try await world.reconcileVM()
        #expect(world.vm()?.printableStatus == "ErrorUnschedulable")
        #expect(world.vm()?.condition("PodScheduled")?["message"] == .string(message))
    }

    @Test func aVMIOfAnotherOwnerIsLeftAlone() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        world.client.seed(vmiPath, vmiManifest { vmi in
            vmi[path: ["metadata", "ownerReferences"]] = [["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": "testvm",
                                                           "uid": "old-vm-uid", "controller": true]]
        })
        let result = try await world.reconcileVM()
        #expect(result == .requeue(after: .seconds(2)))
        #expect(world.client.log.allSatisfy { !$0.hasPrefix("DELETE") && !$0.hasPrefix("POST") })
    }

    @Test func statusWritesAreIdempotent() async throws {
        let world = World()
        world.client.seed(vmPath, vmManifest())
        try await world.reconcileVM()
        setVMIPhase(world, "Running", ready: true)
        try await world.reconcileVM()
        world.client.clearLog()
        try await world.reconcileVM()
        try await world.reconcileVM()
        #expect(world.client.log.isEmpty)
    }
}

@Suite struct CrashLoopBackoffTests {
    @Test func delaysDoubleFrom10SecondsToFiveMinutes() {
        let delays = (1...8).map { CrashLoopBackoff.delay(afterFailures: $0) }
        #expect(delays == [.seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160), .seconds(300), .seconds(300), .seconds(300)])
    }

    func vmi(uid: String, phases: [String]) -> VirtualMachineInstance {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "vm"), spec: VirtualMachineInstanceSpec())
        vmi.metadata?.uid = uid
        var status = VirtualMachineInstanceStatus()
        status.phase = phases.last
        status.phaseTransitionTimestamps = phases.map { PhaseTransitionTimestamp(phase: $0) }
        vmi.status = status
        return vmi
    }

    @Test func countsEachEarlyFailureOnce() {
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let failed = vmi(uid: "a", phases: ["Pending", "Scheduling", "Failed"])
        let first = CrashLoopBackoff.startFailure(current: nil, vmi: failed, runStrategy: "Always", now: now)
        #expect(first?.consecutiveFailCount == 1)
        #expect(first?.retryAfterTimestamp == "2026-01-01T00:00:10Z")
        let again = CrashLoopBackoff.startFailure(current: first, vmi: failed, runStrategy: "Always", now: now.addingTimeInterval(5))
        #expect(again == first)
        let next = CrashLoopBackoff.startFailure(current: first, vmi: vmi(uid: "b", phases: ["Pending", "Failed"]), runStrategy: "Always", now: now)
        #expect(next?.consecutiveFailCount == 2)
        #expect(next?.retryAfterTimestamp == "2026-01-01T00:00:20Z")
        #expect(CrashLoopBackoff.timeLeft(next, now: now.addingTimeInterval(15)) == .seconds(5))
        #expect(CrashLoopBackoff.timeLeft(next, now: now.addingTimeInterval(25)) == .zero)
    }

    @Test func runningOrANonRestartingStrategyClearsIt() {
        let now = Date()
        var failure = VirtualMachineStartFailure()
        failure.consecutiveFailCount = 3
        let ran = vmi(uid: "c", phases: ["Pending", "Scheduling", "Scheduled", "Running"])
        #expect(CrashLoopBackoff.startFailure(current: failure, vmi: ran, runStrategy: "Always", now: now) == nil)
        #expect(CrashLoopBackoff.startFailure(current: failure, vmi: nil, runStrategy: "Manual", now: now) == nil)
        #expect(CrashLoopBackoff.startFailure(current: failure, vmi: nil, runStrategy: "Always", now: now) == failure)
        let failedAfterRunning = vmi(uid: "d", phases: ["Pending", "Running", "Failed"])
        #expect(CrashLoopBackoff.startFailure(current: nil, vmi: failedAfterRunning, runStrategy: "Always", now: now) == nil)
    }

    @Test func printableStatusPrecedence() {
        let running = vmi(uid: "x", phases: ["Running"])
        #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: true, vmi: running, vmiDeleting: false, startFailure: nil, runStrategy: "Always") == "Terminating")
        #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: false, vmi: running, vmiDeleting: true, startFailure: nil, runStrategy: "Always") == "Stopping")
        #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: false, vmi: running, vmiDeleting: false, startFailure: nil, runStrategy: "Always") == "Running")
        #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: false, vmi: nil, vmiDeleting: false, startFailure: nil, runStrategy: "Always") == "Stopped")
        var failure = VirtualMachineStartFailure()
        failure.consecutiveFailCount = 1
        #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: false, vmi: nil, vmiDeleting: false, startFailure: failure, runStrategy: "Always") == "CrashLoopBackOff")
        #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: false, vmi: nil, vmiDeleting: false, startFailure: failure, runStrategy: "Manual") == "Stopped")
        #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: false, vmi: vmi(uid: "p", phases: ["Pending"]), vmiDeleting: false, startFailure: nil, runStrategy: "Always") == "Starting")
        // An image the node cannot have: the node agent's Synchronized reason, not Starting or CrashLoopBackOff.
        for reason in ["ErrImagePull", "ImagePullBackOff"] {
            var pulling = vmi(uid: "i", phases: ["Pending", "Scheduling", "Scheduled"])
            pulling.status?.conditions = [Condition(type: "Synchronized", status: "False", reason: reason, message: "no such image")]
            #expect(VirtualMachineStatusRules.printableStatus(vmDeleting: false, vmi: pulling, vmiDeleting: false, startFailure: nil, runStrategy: "Always") == reason)
        }
    }

    @Test func requestTrimming() {
        let stop = VirtualMachineStateChangeRequest(action: "Stop", uid: "u1")
        let start = VirtualMachineStateChangeRequest(action: "Start")
        #expect(VirtualMachineStatusRules.trimmedRequests([stop, start], vmiUID: "u1", vmiLive: true) == [stop, start])
        #expect(VirtualMachineStatusRules.trimmedRequests([stop, start], vmiUID: nil, vmiLive: false) == [start])
        #expect(VirtualMachineStatusRules.trimmedRequests([stop, start], vmiUID: "u2", vmiLive: true) == [])
        #expect(VirtualMachineStatusRules.trimmedRequests([start], vmiUID: "u1", vmiLive: false) == [start])
    }
}
