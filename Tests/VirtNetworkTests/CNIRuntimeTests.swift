import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtError
import VirtOS
import VirtTestSupport

@testable import VirtNetwork

/// A fake runner that records every call (program, arguments, environment, stdin) and answers from a script.
final class RecordingRunner: CommandRunner {
    struct Call: Sendable {
        var executable: String
        var arguments: [String]
        var environment: [String: String]?
        var input: [UInt8]?

        /// The program's name without its directory (`bridge` for `/x/bridge`).
        var program: String { (executable as NSString).lastPathComponent }
        var command: String? { environment?["CNI_COMMAND"] }
        var stdin: JSONValue? { input.flatMap { try? JSONValue.parse($0) } }
        var stdinText: String { String(decoding: input ?? [], as: UTF8.self) }
        /// `bridge ADD`, `nsenter --net=/p -- ip -batch -`…
        var summary: String { command.map { "\(program) \($0)" } ?? ([executable] + arguments).joined(separator: " ") }
    }

    typealias Script = @Sendable (Call) throws -> CommandResult

    private let calls = Mutex<[Call]>([])
    private let script: Script

    init(script: @escaping Script = { _ in CommandResult(exitCode: 0) }) {
        self.script = script
    }

    var recorded: [Call] { calls.withLock { $0 } }
    var summaries: [String] { recorded.map(\.summary) }

    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult {
        let call = Call(executable: executable, arguments: arguments, environment: environment, input: input)
        calls.withLock { $0.append(call) }
        return try script(call)
    }
}

/// A result as a plugin prints it.
func printed(_ result: CNIResult) -> CommandResult {
    CommandResult(exitCode: 0, stdout: Array(result.serialized().utf8))
}

/// The runtime against fake plugins: what each plugin is given (environment, stdin), in which order
/// plugins run for ADD, CHECK and DEL, and what their failures become.
@Suite struct CNIRuntimeTests {
    let plugins: TemporaryDirectory
    let netns = "/run/swiftvirt/n1/netns/sandbox-1"

    init() throws {
        plugins = try TemporaryDirectory(prefix: "cni-plugins")
        for name in ["bridge", "tuning", "firewall", "portmap"] {
            _ = FileManager.default.createFile(atPath: "\(plugins.path)/\(name)", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        }
    }

    func runtime(_ runner: RecordingRunner, cache: String? = nil) -> CNIRuntime {
        CNIRuntime(configuration: .init(pluginDirectories: ["/nonexistent/cni", plugins.path], cacheDirectory: cache), runner: runner)
    }

    var attachment: CNIAttachment {
        CNIAttachment(containerID: "sandbox-1", netnsPath: netns, ifName: "net1",
                      args: CNIAttachment.kubernetesArgs(podNamespace: "default", podName: "virt-launcher-vm1-abcde", sandboxID: "sandbox-1", podUID: "uid-1"),
                      capabilityArgs: ["mac": "02:00:00:00:00:07", "ips": ["10.1.0.7/24"], "bandwidth": ["ingressRate": 1000]])
    }

    static func list(_ types: [String], version: String = "1.0.0", extra: String = "") throws -> CNINetworkConfigList {
        let plugins = types.map { #"{"type":"\#($0)","tag":"\#($0)-conf"}"# }.joined(separator: ",")
        return try CNINetworkConfigList.parse(#"{"cniVersion":"\#(version)","name":"blue"\#(extra),"plugins":[\#(plugins)]}"#)
    }

    /// A result naming the plugin that printed it, so chaining is visible.
    static func result(_ tag: String) -> CNIResult {
        CNIResult(interfaces: [.init(name: "net1", mac: "02:00:00:00:00:07", sandbox: "/run/swiftvirt/n1/netns/sandbox-1")],
                  ips: [.init(address: "10.1.0.7/24", gateway: "10.1.0.1", interface: 0)], routes: [.init(dst: tag)])
    }

    @Test func addRunsEachPluginInOrderWithTheCNIEnvironmentAndItsConfigOnStdin() async throws {
        let runner = RecordingRunner { call in printed(Self.result(call.program)) }
        let list = try CNINetworkConfigList.parse("""
            {"cniVersion":"1.0.0","name":"blue","plugins":[
              {"type":"bridge","bridge":"br1","capabilities":{"mac":true,"ips":false,"portMappings":true},"ipam":{"type":"static"}},
              {"type":"tuning","sysctl":{"net.ipv4.conf.net1.arp_notify":"1"}}]}
            """)

        let result = try await runtime(runner).add(list, attachment)

        let calls = runner.recorded
        #expect(runner.summaries == ["bridge ADD", "tuning ADD"])
        #expect(calls[0].executable == plugins.path + "/bridge")
        #expect(calls[0].arguments == [])
        #expect(calls[0].environment == [
            "CNI_COMMAND": "ADD",
            "CNI_CONTAINERID": "sandbox-1",
            "CNI_NETNS": netns,
            "CNI_IFNAME": "net1",
            "CNI_ARGS": "IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=virt-launcher-vm1-abcde;K8S_POD_INFRA_CONTAINER_ID=sandbox-1;K8S_POD_UID=uid-1",
            "CNI_PATH": "/nonexistent/cni:\(plugins.path)",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ])
        // The first plugin: its own object, the list's version and name, only the declared and offered
        // capability (mac: ips is declared false, portMappings is not offered), no prevResult.
        #expect(calls[0].stdinText == #"{"bridge":"br1","capabilities":{"ips":false,"mac":true,"portMappings":true},"cniVersion":"1.0.0","ipam":{"type":"static"},"name":"blue","runtimeConfig":{"mac":"02:00:00:00:00:07"},"type":"bridge"}"#)
        // The second: no capabilities, so no runtimeConfig; the first one's result as prevResult.
        #expect(calls[1].stdin == [
            "type": "tuning", "sysctl": ["net.ipv4.conf.net1.arp_notify": "1"], "cniVersion": "1.0.0", "name": "blue",
            "prevResult": Self.result("bridge").json,
        ])
        #expect(calls[1].environment?["CNI_COMMAND"] == "ADD")
        #expect(result == Self.result("tuning"))
    }

    @Test func eachPluginGetsTheCapabilitiesItDeclaresAndNothingElse() async throws {
        let runner = RecordingRunner { _ in printed(Self.result("x")) }
        let list = try CNINetworkConfigList.parse("""
            {"cniVersion":"1.0.0","name":"blue","plugins":[
              {"type":"bridge","capabilities":{"mac":true,"ips":true}},
              {"type":"portmap","capabilities":{"portMappings":true},"runtimeConfig":{"stale":1}},
              {"type":"tuning","capabilities":{"bandwidth":false}}]}
            """)

        _ = try await runtime(runner).add(list, attachment)

        let sent = runner.recorded.map { $0.stdin?["runtimeConfig"] }
        #expect(sent[0] == ["mac": "02:00:00:00:00:07", "ips": ["10.1.0.7/24"]])
        #expect(sent[1] == nil)  // declared but not offered: a runtimeConfig written in the file is dropped too
        #expect(sent[2] == nil)
    }

    @Test func deleteRunsThePluginsInReverseWithTheResultAndAllOfThemWhenOneFails() async throws {
        let runner = RecordingRunner { call in
            call.program == "tuning" ? CommandResult(exitCode: 1, stdout: Array(#"{"code":11,"msg":"device busy"}"#.utf8)) : CommandResult(exitCode: 0)
        }
        let list = try Self.list(["bridge", "tuning", "firewall"])

        let error = await #expect(throws: VirtError.self) {
            try await runtime(runner).delete(list, attachment, prevResult: Self.result("final"))
        }

        #expect(runner.summaries == ["firewall DEL", "tuning DEL", "bridge DEL"])
        #expect(runner.recorded.allSatisfy { $0.stdin?["prevResult"] == Self.result("final").json })
        #expect(error?.cniError == .pluginFailed(type: "tuning", command: "DEL", code: 11, message: "device busy", details: ""))
        #expect(error?.code == .serviceUnavailable)
        #expect(error?.description == #"CNI DEL of network "blue" on net1 of container sandbox-1: plugin tuning failed DEL with CNI error code 11 (try again later): device busy"#)
    }

    @Test func deleteThrowsTheFirstFailureInTheOrderTheyRan() async throws {
        let runner = RecordingRunner { call in CommandResult(exitCode: 1, stderr: Array("\(call.program) broke\n".utf8)) }
        let error = await #expect(throws: VirtError.self) {
            try await runtime(runner).delete(try Self.list(["bridge", "tuning"]), attachment, prevResult: nil)
        }
        #expect(runner.summaries == ["tuning DEL", "bridge DEL"])
        #expect(runner.recorded.allSatisfy { $0.stdin?["prevResult"] == nil })
        #expect(error?.cniError == .pluginFailed(type: "tuning", command: "DEL", code: nil, message: "exit status 1: tuning broke", details: ""))
    }

    @Test func aFailedAddIsUndoneByDELOfThatPluginAndTheOnesBeforeItInReverse() async throws {
        let runner = RecordingRunner { call in
            if call.command == "ADD", call.program == "tuning" {
                return CommandResult(exitCode: 1, stdout: Array(#"{"cniVersion":"1.0.0","code":7,"msg":"invalid sysctl","details":"net.bogus"}"#.utf8))
            }
            return call.command == "ADD" ? printed(Self.result(call.program)) : CommandResult(exitCode: 0)
        }
        let list = try Self.list(["bridge", "tuning", "firewall"])

        let error = await #expect(throws: VirtError.self) { try await runtime(runner).add(list, attachment) }

        #expect(runner.summaries == ["bridge ADD", "tuning ADD", "tuning DEL", "bridge DEL"])
        // The undoing DEL carries the last result there is: the bridge's.
        #expect(runner.recorded[2].stdin?["prevResult"] == Self.result("bridge").json)
        #expect(runner.recorded[3].stdin?["prevResult"] == Self.result("bridge").json)
        #expect(error?.cniError == .pluginFailed(type: "tuning", command: "ADD", code: 7, message: "invalid sysctl", details: "net.bogus"))
        #expect(error?.code == .invalid)
        #expect(error?.description == #"CNI ADD of network "blue" on net1 of container sandbox-1: plugin tuning failed ADD with CNI error code 7 (invalid network config): invalid sysctl (net.bogus)"#)
    }

    @Test func theFirstPluginFailingIsUndoneByItsOwnDELWithoutPrevResult() async throws {
        let runner = RecordingRunner { call in
            call.command == "ADD" ? CommandResult(exitCode: 1, stdout: Array(#"{"code":999,"msg":"failed to find plugin \"nope\" in path [/usr/lib/cni]"}"#.utf8)) : CommandResult(exitCode: 0)
        }
        await #expect(throws: VirtError.self) { try await runtime(runner).add(try Self.list(["bridge", "tuning"]), attachment) }
        #expect(runner.summaries == ["bridge ADD", "bridge DEL"])
        #expect(runner.recorded[1].stdin?["prevResult"] == nil)
    }

    @Test func aFailingUndoIsReportedBesideTheADDFailure() async throws {
        let runner = RecordingRunner { call in
            call.command == "ADD" ? CommandResult(exitCode: 1, stdout: Array(#"{"code":5,"msg":"disk full"}"#.utf8)) : CommandResult(exitCode: 2, stderr: Array("netns gone".utf8))
        }
        let error = await #expect(throws: VirtError.self) { try await runtime(runner).add(try Self.list(["bridge"]), attachment) }
        #expect(error?.cniError == .pluginFailed(type: "bridge", command: "ADD", code: 5, message: "disk full", details: ""))
        #expect(error?.message == #"CNI ADD of network "blue" on net1 of container sandbox-1 (the DEL run to undo it failed too: plugin bridge failed DEL: exit status 2: netns gone)"#)
    }

    @Test func aMissingPluginNamesTheDirectoriesAndOnlyThePluginsThatRanAreUndone() async throws {
        let runner = RecordingRunner { call in call.command == "ADD" ? printed(Self.result(call.program)) : CommandResult(exitCode: 0) }
        let error = await #expect(throws: VirtError.self) { try await runtime(runner).add(try Self.list(["bridge", "macvlan"]), attachment) }
        #expect(runner.summaries == ["bridge ADD", "bridge DEL"])
        #expect(error?.cniError == .pluginNotFound(type: "macvlan", searched: ["/nonexistent/cni", plugins.path]))
        #expect(error?.description.contains(#"CNI plugin "macvlan" not found in /nonexistent/cni, \#(plugins.path)"#) == true)
    }

    @Test func aPluginThatIsNotInstalledIsPassedOverByDEL() async throws {
        let runner = RecordingRunner { _ in CommandResult(exitCode: 0) }
        try await runtime(runner).delete(try Self.list(["bridge", "macvlan"]), attachment, prevResult: nil)
        #expect(runner.summaries == ["bridge DEL"])
        // After an ADD that gave a result, the plugin did set something up: its DEL is owed.
        await #expect(throws: VirtError.self) {
            try await runtime(runner).delete(try Self.list(["bridge", "macvlan"]), attachment, prevResult: CNIResult())
        }
    }

    @Test func anUnreadableResultFailsTheADDAndIsUndone() async throws {
        let runner = RecordingRunner { call in
            call.command == "ADD" ? CommandResult(exitCode: 0, stdout: Array(#"{"cniVersion":"1.0.0","ips":[{"gateway":"10.1.0.1"}]}"#.utf8)) : CommandResult(exitCode: 0)
        }
        let error = await #expect(throws: VirtError.self) { try await runtime(runner).add(try Self.list(["bridge"]), attachment) }
        #expect(runner.summaries == ["bridge ADD", "bridge DEL"])
        #expect(error?.cniError == .badResult(type: "bridge", detail: "ips[0].address is required"))
    }

    @Test func aPluginThatCannotBeStartedIsAFailureOfThatPlugin() async throws {
        let runner = RecordingRunner { _ in throw VirtError(.internal, "exec format error") }
        let error = await #expect(throws: VirtError.self) { try await runtime(runner).add(try Self.list(["bridge"]), attachment) }
        guard case .pluginFailed("bridge", "ADD", nil, let message, "")? = error?.cniError else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(message == "cannot run \(plugins.path)/bridge: exec format error")
    }

    @Test func checkRunsInOrderWithTheResultUnlessDisabledOrTooOld() async throws {
        let runner = RecordingRunner()
        let final = Self.result("final")
        #expect(try await runtime(runner).check(try Self.list(["bridge", "tuning"]), attachment, prevResult: final))
        #expect(runner.summaries == ["bridge CHECK", "tuning CHECK"])
        #expect(runner.recorded.allSatisfy { $0.stdin?["prevResult"] == final.json && $0.environment?["CNI_COMMAND"] == "CHECK" })

        let skipped = RecordingRunner()
        #expect(try await !runtime(skipped).check(try Self.list(["bridge"], extra: #","disableCheck":true"#), attachment, prevResult: final))
        #expect(try await !runtime(skipped).check(try Self.list(["bridge"], version: "0.3.1"), attachment, prevResult: final))
        #expect(skipped.recorded.isEmpty)
    }

    @Test func checkStopsAtTheFirstFailure() async throws {
        let runner = RecordingRunner { call in
            call.program == "bridge" ? CommandResult(exitCode: 1, stdout: Array(#"{"code":100,"msg":"bridge br1 is missing"}"#.utf8)) : CommandResult(exitCode: 0)
        }
        let error = await #expect(throws: VirtError.self) {
            try await runtime(runner).check(try Self.list(["bridge", "tuning"]), attachment, prevResult: Self.result("x"))
        }
        #expect(runner.summaries == ["bridge CHECK"])
        #expect(error?.description == #"CNI CHECK of network "blue" on net1 of container sandbox-1: plugin bridge failed CHECK with CNI error code 100: bridge br1 is missing"#)
    }

    @Test func aDELOfA03ListSendsNoPrevResult() async throws {
        let runner = RecordingRunner()
        try await runtime(runner).delete(try Self.list(["bridge"], version: "0.3.1"), attachment, prevResult: Self.result("x"))
        #expect(runner.recorded.map { $0.stdin?["prevResult"] } == [nil])
        #expect(runner.recorded.first?.stdin?["cniVersion"] == "0.3.1")
    }

    @Test func theCacheGivesADELWithoutAResultTheADDsResult() async throws {
        let cache = try TemporaryDirectory(prefix: "cni-cache")
        let runner = RecordingRunner { call in call.command == "ADD" ? printed(Self.result(call.program)) : CommandResult(exitCode: 0) }
        let runtime = runtime(runner, cache: cache.path + "/results")
        let list = try Self.list(["bridge"])

        let result = try await runtime.add(list, attachment)
        let file = cache.path + "/results/blue-sandbox-1-net1.json"
        #expect(FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } == result.serialized())

        try await runtime.delete(list, attachment, prevResult: nil)
        #expect(runner.recorded.last?.stdin?["prevResult"] == result.json)
        #expect(!FileManager.default.fileExists(atPath: file))
        try await runtime.delete(list, attachment, prevResult: nil)  // again: no cache, no prevResult, still fine
        #expect(runner.recorded.last?.stdin?["prevResult"] == nil)
    }

    @Test func aResultThatCannotBeCachedUndoesTheADD() async throws {
        let runner = RecordingRunner { call in call.command == "ADD" ? printed(Self.result(call.program)) : CommandResult(exitCode: 0) }
        let blocker = plugins.path + "/bridge"  // a file, so no directory can be made under it
        let error = await #expect(throws: VirtError.self) { try await runtime(runner, cache: blocker + "/results").add(try Self.list(["bridge", "tuning"]), attachment) }
        #expect(runner.summaries == ["bridge ADD", "tuning ADD", "tuning DEL", "bridge DEL"])
        #expect(runner.recorded[2].stdin?["prevResult"] == Self.result("tuning").json)
        #expect(error?.message.hasPrefix(#"CNI ADD of network "blue" on net1 of container sandbox-1: the result could not be cached at \#(blocker)/results/blue-sandbox-1-net1.json"#) == true)
    }

    @Test func attachmentsAPluginWouldMisreadAreRefusedBeforeAnythingRuns() async throws {
        let runner = RecordingRunner()
        let list = try Self.list(["bridge"])
        for (change, field) in [
            ({ (a: inout CNIAttachment) in a.containerID = "-leading-dash" }, "containerID"),
            ({ (a: inout CNIAttachment) in a.containerID = "pod/1" }, "containerID"),
            ({ (a: inout CNIAttachment) in a.netnsPath = "relative/ns" }, "netnsPath"),
            ({ (a: inout CNIAttachment) in a.ifName = "a-very-long-ifname" }, "ifName"),
            ({ (a: inout CNIAttachment) in a.ifName = "net 1" }, "ifName"),
            ({ (a: inout CNIAttachment) in a.args = [.init("K=", "v")] }, "args[0].key"),
            ({ (a: inout CNIAttachment) in a.args = [.init("IgnoreUnknown", "true"), .init("K", "a;b")] }, "args[1].value"),
        ] {
            var bad = attachment
            change(&bad)
            let error = await #expect(throws: VirtError.self) { try await runtime(runner).add(list, bad) }
            guard case .invalidAttachment(field, _)? = error?.cniError else {
                Issue.record("\(field): \(String(describing: error))")
                continue
            }
            #expect(error?.code == .invalid)
        }
        #expect(runner.recorded.isEmpty)
    }

    @Test func aSingleConfIsRunAsAOnePluginList() async throws {
        let runner = RecordingRunner { _ in printed(Self.result("x")) }
        let conf = try CNINetworkConfigList.parse(#"{"cniVersion":"0.4.0","name":"mv","type":"bridge","master":"eth1"}"#)
        _ = try await runtime(runner).add(conf, attachment)
        #expect(runner.recorded.map(\.stdinText) == [#"{"cniVersion":"0.4.0","master":"eth1","name":"mv","type":"bridge"}"#])
    }
}
