import Foundation
import Testing
import VirtAPI
@testable import VirtCommands
import VirtError

/// The stream commands' own logic: how exec reads the result the server sends on the error channel, and
/// how their arguments parse.
@Suite struct StreamCommandTests {
    @Test func execExitCodeComesFromTheStatusOnTheErrorChannel() throws {
        #expect(try PodExec.exitCode(fromStatus: Array(#"{"metadata":{},"status":"Success"}"#.utf8)) == 0)
        let failed = #"{"metadata":{},"status":"Failure","reason":"NonZeroExitCode","message":"command terminated","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#
        #expect(try PodExec.exitCode(fromStatus: Array(failed.utf8)) == 3)
        let broken = #"{"metadata":{},"status":"Failure","reason":"InternalError","message":"pod default/p has no running container"}"#
        #expect(throws: VirtError.self) { try PodExec.exitCode(fromStatus: Array(broken.utf8)) }
    }

    @Test func execTakesTheCommandAfterTheDoubleDash() throws {
        let exec = try PodExec.parse(["-i", "-c", "compute", "virt-launcher-a-x", "--", "qemu-img", "info", "-U", "/d.qcow2"])
        #expect(exec.stdin)
        #expect(exec.container == "compute")
        #expect(exec.pod == "virt-launcher-a-x")
        #expect(exec.command == ["qemu-img", "info", "-U", "/d.qcow2"])
        #expect(throws: (any Error).self) { try PodExec.parse(["virt-launcher-a-x"]) }
    }

    @Test func consoleAndVNCOptions() throws {
        let console = try VMConsole.parse(["vm1", "--linger", "1.5"])
        #expect(console.name == "vm1" && console.linger == 1.5 && console.timeout == 5)
        let vnc = try VMVNC.parse(["vm1", "--proxy-only", "--port", "5901"])
        #expect(vnc.proxyOnly && vnc.port == 5901 && vnc.address == "127.0.0.1")
    }
}
