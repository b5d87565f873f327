import Foundation
import Testing
import VirtAPI
import VirtError
import VirtOS
import VirtTestSupport

@testable import VirtNetwork

/// Persistent network namespaces and the tools run in them: the exact command lines (recorded), and,
/// as root (as `make test` runs on CI), real namespaces made and removed again.
@Suite struct NetworkNamespacesTests {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory(prefix: "netns-test") }

    @Test func createPinsANewNamespaceAndBringsLoopbackUp() async throws {
        let runner = RecordingRunner()
        let path = directory.path + "/netns/s1"
        try await NetworkNamespaces(runner: runner).create(at: path)
        #expect(runner.summaries == ["unshare --net=\(path) ip link set lo up"])
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(runner.recorded.allSatisfy { $0.environment == ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] })
        #expect(FileManager.default.fileExists(atPath: directory.path + "/netns"))  // the directory is made
    }

    @Test func aFailedCreateLeavesNothingAndSaysWhy() async throws {
        let path = directory.path + "/s1"
        let runner = RecordingRunner { call in
            call.executable == "unshare" ? CommandResult(exitCode: 1, stderr: Array("unshare: mount /x on /y failed: Permission denied\n".utf8)) : CommandResult(exitCode: 0)
        }
        let error = try await #require(throws: VirtError.self) { try await NetworkNamespaces(runner: runner).create(at: path) }
        #expect(error.message == "cannot create network namespace \(path): unshare --net=\(path) ip link set lo up failed with exit code 1: unshare: mount /x on /y failed: Permission denied")
        #expect(runner.summaries == ["unshare --net=\(path) ip link set lo up", "umount \(path)"])
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func createRefusesAPathThatExists() async throws {
        let path = directory.path + "/taken"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let error = try await #require(throws: VirtError.self) { try await NetworkNamespaces(runner: RecordingRunner()).create(at: path) }
        #expect(error.code == .exists)
        await #expect(throws: VirtError.self) { try await NetworkNamespaces(runner: RecordingRunner()).create(at: "relative/ns") }
    }

    @Test func removeUnmountsThenDeletesAndNothingThereIsFine() async throws {
        let path = directory.path + "/s1"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let runner = RecordingRunner { _ in CommandResult(exitCode: 32, stderr: Array("umount: \(path): not mounted.\n".utf8)) }
        let namespaces = NetworkNamespaces(runner: runner)
        try await namespaces.remove(at: path)
        try await namespaces.remove(at: path)
        #expect(runner.summaries == ["umount \(path)"])
        #expect(!FileManager.default.fileExists(atPath: path))

        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let busy = RecordingRunner { _ in CommandResult(exitCode: 32, stderr: Array("umount: \(path): target is busy.\n".utf8)) }
        let error = try await #require(throws: VirtError.self) { try await NetworkNamespaces(runner: busy).remove(at: path) }
        #expect(error.message == "cannot remove network namespace \(path): umount failed with exit code 32: umount: \(path): target is busy.")
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func listGivesTheNamespaceFilesOfADirectory() throws {
        let namespaces = NetworkNamespaces(runner: RecordingRunner())
        #expect(namespaces.list(in: directory.path + "/missing") == [])
        for name in ["b", "a"] { _ = FileManager.default.createFile(atPath: "\(directory.path)/\(name)", contents: nil) }
        try FileManager.default.createDirectory(atPath: directory.path + "/sub", withIntermediateDirectories: true)
        #expect(namespaces.list(in: directory.path) == ["\(directory.path)/a", "\(directory.path)/b"])
    }

    @Test func eachBatchIsOneProcessInTheNamespace() async throws {
        let runner = RecordingRunner()
        let commands = NamespacedCommands(namespacePath: "/ns/p", runner: runner)
        try await commands.ip(["link add k6t-eth0 type bridge", "link set k6t-eth0 up"])
        try await commands.tc(["qdisc add dev net1 ingress"])
        try await commands.nft("table ip nat {\n  chain postrouting { type nat hook postrouting priority 100; }\n}")
        try await commands.sysctl([("net.ipv4.ip_forward", "1"), ("net.ipv4.conf.k6t-eth0.route_localnet", "1")])
        try await commands.ip([])
        try await commands.sysctl([])
        #expect(runner.summaries == [
            "nsenter --net=/ns/p -- ip -batch -", "nsenter --net=/ns/p -- tc -batch -", "nsenter --net=/ns/p -- nft -f -",
            "nsenter --net=/ns/p -- sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.k6t-eth0.route_localnet=1",
        ])
        #expect(runner.recorded.map(\.stdinText) == [
            "link add k6t-eth0 type bridge\nlink set k6t-eth0 up\n", "qdisc add dev net1 ingress\n",
            "table ip nat {\n  chain postrouting { type nat hook postrouting priority 100; }\n}\n", "",
        ])
    }

    @Test(arguments: [
        ("ip", "Cannot find device \"nope\"\nCommand failed -:2\n",
         #"ip -batch - failed in network namespace /ns/p at line 2 ("link set nope up"): Cannot find device "nope""#),
        ("tc", "Cannot find device \"net1\"\nCommand failed -:1\n",
         #"tc -batch - failed in network namespace /ns/p at line 1 ("link add a type veth peer b"): Cannot find device "net1""#),
        ("nft", "/dev/stdin:3:9-12: Error: syntax error, unexpected rule\n  bogus rule\n        ^^^^\n",
         "nft -f - failed in network namespace /ns/p at line 3 (\"link set lo up\"): /dev/stdin:3:9-12: Error: syntax error, unexpected rule\n  bogus rule\n        ^^^^"),
        ("ip", "", "ip -batch - failed in network namespace /ns/p: exit status 1 and no output"),
    ])
    func aFailedBatchNamesItsLine(tool: String, stderr: String, message: String) async throws {
        let runner = RecordingRunner { _ in CommandResult(exitCode: 1, stderr: Array(stderr.utf8)) }
        let commands = NamespacedCommands(namespacePath: "/ns/p", runner: runner)
        let lines = ["link add a type veth peer b", "link set nope up", "link set lo up"]
        let error = try await #require(throws: VirtError.self) {
            switch tool {
            case "tc": try await commands.tc(lines)
            case "nft": try await commands.nft(lines.joined(separator: "\n"))
            default: try await commands.ip(lines)
            }
        }
        #expect(error.message == message)
    }

    // MARK: real namespaces (root)

    @Test func aRealNamespaceIsMadeWithLoopbackUpAndRemovedWithoutATrace() async throws {
        let namespaces = NetworkNamespaces()
        let path = directory.path + "/netns/real-1"
        try await namespaces.create(at: path)
        var removed = false
        defer { if !removed { Self.forceRemove(path) } }

        let commands = NamespacedCommands(namespacePath: path)
        let links = try JSONValue.parse(try await commands.run("ip", ["-j", "link", "show"]).stdout)
        #expect(links.arrayValue?.compactMap { $0["ifname"]?.stringValue } == ["lo"])
        #expect(links.arrayValue?.first?["flags"]?.arrayValue?.contains("UP") == true)
        let inside = try await commands.run("readlink", ["/proc/self/ns/net"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try inside != FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net"))
        #expect(namespaces.list(in: directory.path + "/netns") == [path])

        // Its own sysctls and rules: forwarding on here leaves the host's as it was.
        let hostForwarding = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)
        try await commands.sysctl([("net.ipv4.ip_forward", "1")])
        #expect(try await commands.run("cat", ["/proc/sys/net/ipv4/ip_forward"]).stdoutText == "1\n")
        #expect(try String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8) == hostForwarding)
        try await commands.ip(["link add svtest-br type bridge", "link set svtest-br up"])
        try await commands.nft("table ip svtest {\n  chain post { type nat hook postrouting priority 100; }\n}")
        let tables = try await commands.run("nft", ["list", "tables"]).stdoutText
        #expect(tables.contains("table ip svtest"))

        let failure = try await #require(throws: VirtError.self) { try await commands.ip(["link set lo up", "link set svtest-none up"]) }
        #expect(failure.message == #"ip -batch - failed in network namespace \#(path) at line 2 ("link set svtest-none up"): Cannot find device "svtest-none""#)
        let nftFailure = try await #require(throws: VirtError.self) { try await commands.nft("table ip svtest2 {\n  chain c {\n    bogus rule\n  }\n}") }
        #expect(nftFailure.message.hasPrefix(#"nft -f - failed in network namespace \#(path) at line 3 ("bogus rule"): "#))

        try await namespaces.remove(at: path)
        removed = true
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!Self.mountinfo().contains(path))
        try await namespaces.remove(at: path)
    }

    static func mountinfo() -> String {
        (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    }

    /// Cleanup after a failed test: whatever is mounted at `path`, and the file.
    static func forceRemove(_ path: String) {
        _ = umount2(path, 2)  // MNT_DETACH
        unlink(path)
    }
}
