import Foundation
import Synchronization
import Testing
import VirtAPI

@testable import VirtCommands

/// What a progress bar writes, on a terminal and elsewhere, and how `dv wait` reads a DataVolume.
@Suite struct ProgressBarTests {
    final class Output: Sendable {
        let text = Mutex("")
        var write: @Sendable (String) -> Void { { [self] piece in text.withLock { $0 += piece } } }
        var value: String { text.withLock { $0 } }
    }

    @Test func aLineShowsTheBarThePercentAndTheStatus() {
        let bar = ProgressBar(configuration: .init(width: 10, interactive: false)) { _ in }
        #expect(bar.render(fraction: 0.45, status: "ImportInProgress") == "[####......]  45.00%  ImportInProgress")
        #expect(bar.render(fraction: nil, status: "Pending") == "[..........]    N/A   Pending")
        #expect(bar.render(fraction: 1.7, status: "") == "[##########] 100.00%")
    }

    @Test func elsewhereEachChangeIsOneLine() {
        let output = Output()
        var bar = ProgressBar(configuration: .init(width: 4, interactive: false), write: output.write)
        bar.update(fraction: nil, status: "Pending")
        bar.update(fraction: nil, status: "Pending")
        bar.update(fraction: 0.5, status: "ImportInProgress")
        bar.finish(fraction: 1, status: "Succeeded")
        #expect(output.value == "[....]    N/A   Pending\n[##..]  50.00%  ImportInProgress\n[####] 100.00%  Succeeded\n")
    }

    @Test func onATerminalOneLineIsRedrawnAndEndedOnce() {
        let output = Output()
        var bar = ProgressBar(configuration: .init(width: 4, interactive: true), write: output.write)
        bar.update(fraction: 0.5, status: "ImportInProgress")
        bar.finish(fraction: 1, status: "Done")
        // The shorter last line blanks out what is left of the longer one before it.
        #expect(output.value == "\r[##..]  50.00%  ImportInProgress\r[####] 100.00%  Done            \n")
    }

    @Test func cdisProgressIsAFraction() {
        #expect(ProgressBar.fraction(fromPercent: "45.5%") == 0.455)
        #expect(ProgressBar.fraction(fromPercent: "N/A") == nil)
        #expect(ProgressBar.fraction(fromPercent: nil) == nil)
    }

    @Test func dvWaitEndsAtItsPhaseOrAtFailed() {
        let follower = DataVolumeFollower(name: "disk", target: "Succeeded")
        let object = { (phase: String) -> JSONValue in ["status": ["phase": .string(phase)]] }
        #expect(follower.outcome(object("ImportInProgress")) == nil)
        if case .reached? = follower.outcome(object("Succeeded")) {} else { Issue.record("Succeeded is reached") }
        if case .failed? = follower.outcome(object("Failed")) {} else { Issue.record("Failed fails") }
        // Waiting for an earlier phase also ends once the import is past it.
        let early = DataVolumeFollower(name: "disk", target: "PVCBound")
        if case .reached? = early.outcome(object("Succeeded")) {} else { Issue.record("Succeeded is past PVCBound") }

        let failed: JSONValue = ["status": ["conditions": [
            ["type": "Bound", "status": "True", "message": "PVC disk Bound"],
            ["type": "Running", "status": "False", "message": "Unable to connect to http data source: expected status code 200, got 404"],
        ]]]
        #expect(DataVolumeFollower.runningMessage(failed)?.contains("404") == true)
    }

    @Test func dvWaitRefusesAPhaseItCannotWaitFor() {
        #expect(throws: (any Error).self) { try SwiftVirtCommand.parseAsRoot(["dv", "wait", "disk", "--for", "Done"]) }
        #expect(throws: (any Error).self) { try SwiftVirtCommand.parseAsRoot(["dv", "wait", "disk", "--timeout", "soon"]) }
        #expect(throws: Never.self) { try SwiftVirtCommand.parseAsRoot(["dv", "wait", "disk", "--for", "WaitForFirstConsumer", "--timeout", "90s"]) }
    }
}
