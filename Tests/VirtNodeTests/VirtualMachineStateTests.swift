import Testing
import VirtError
@testable import VirtNode

@Suite struct VirtualMachineStateTests {
    @Test func theLifecycleGoesThroughItsPhasesInOrder() throws {
        var state = VirtualMachineState(podName: "p")
        for phase in [VirtualMachineState.Phase.preparing, .starting, .running, .paused, .running, .stopping, .stopped] {
            try state.move(to: phase)
            #expect(state.phase == phase)
        }
    }

    @Test func transitionsTheLifecycleDoesNotHaveAreRefused() throws {
        var state = VirtualMachineState(podName: "p")
        #expect(throws: VirtError.self) { try state.move(to: .starting) }  // must prepare first
        try state.move(to: .preparing)
        try state.move(to: .failed)
        for phase in VirtualMachineState.Phase.allCases where phase != .failed {
            #expect(throws: VirtError.self) { try state.move(to: phase) }
        }
        do {
            try state.move(to: .running)
        } catch {
            #expect(error.code == .invalidState)
            #expect(error.message == "the guest in pod p cannot go from failed to running")
        }
    }

    @Test func finalPhasesHaveNoWayOut() {
        for phase in VirtualMachineState.Phase.allCases {
            #expect((VirtualMachineState.transitions[phase]?.isEmpty ?? true) == phase.isFinal)
        }
    }
}
