import Foundation
import Testing
import VirtAPI
import VirtError
import VirtOS
import VirtTestSupport

@testable import VirtNetwork

/// The runtime against the real plugins in /usr/lib/cni (Debian's containernetworking-plugins), as root
/// (as `make test` runs on CI). Nothing touches the host's network: a throw-away "node" namespace stands
/// in for the host (every plugin runs inside it, so its bridge, veth ends, iptables rules and ip_forward
/// are the node namespace's), a second one is the pod's, and host-local keeps its leases in a temporary
/// directory. Both namespaces are removed at the end, whatever happens.
@Suite struct CNIIntegrationTests {
    /// Runs every program in the node namespace: `nsenter --net=NODE -- PROGRAM …`.
    struct NodeRunner: CommandRunner {
        let node: String
        let base = ProcessRunner()

        func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult {
            try await base.run("nsenter", ["--net=\(node)", "--", executable] + arguments, environment: environment, input: input)
        }
    }

    let directory: TemporaryDirectory
    var node: String { directory.path + "/netns/node" }
    var pod: String { directory.path + "/netns/pod" }
    var dataDir: String { directory.path + "/ipam" }

    init() throws { directory = try TemporaryDirectory(prefix: "cni-integration") }

    var runtime: CNIRuntime { CNIRuntime(configuration: .init(pluginDirectories: ["/usr/lib/cni"]), runner: NodeRunner(node: node)) }

    func list(extraPlugin: String = #"{"type":"firewall","backend":"iptables"}"#) throws -> CNINetworkConfigList {
        try CNINetworkConfigList.parse("""
            {"cniVersion":"1.0.0","name":"svtest","plugins":[
              {"type":"bridge","bridge":"svtest0","isGateway":true,"ipMasq":true,"hairpinMode":true,
               "ipam":{"type":"host-local","ranges":[[{"subnet":"10.250.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"\(dataDir)"}},
              \(extraPlugin)]}
            """)
    }

    func attachment(_ ifName: String = "eth0") -> CNIAttachment {
        CNIAttachment(containerID: "svtest-sandbox-1", netnsPath: pod, ifName: ifName,
                      args: CNIAttachment.kubernetesArgs(podNamespace: "default", podName: "virt-launcher-t", sandboxID: "svtest-sandbox-1", podUID: "u1"))
    }

    func inNode(_ program: String, _ arguments: [String]) async throws -> String {
        try await NamespacedCommands(namespacePath: node).run(program, arguments).stdoutText
    }

    func links(_ namespace: String) async throws -> [String] {
        let output = try await NamespacedCommands(namespacePath: namespace).run("ip", ["-j", "link", "show"]).stdout
        return try JSONValue.parse(output).arrayValue?.compactMap { $0["ifname"]?.stringValue } ?? []
    }

    /// Makes both namespaces, runs `body`, and removes them again even when `body` fails (the removal
    /// itself is also tested: after it, neither file is there nor mounted).
    func withNamespaces(_ body: () async throws -> Void) async throws {
        let namespaces = NetworkNamespaces()
        try await namespaces.create(at: node)
        defer { NetworkNamespacesTests.forceRemove(node) }
        try await namespaces.create(at: pod)
        defer { NetworkNamespacesTests.forceRemove(pod) }
        try await body()
        try await namespaces.remove(at: pod)
        try await namespaces.remove(at: node)
        #expect(!NetworkNamespacesTests.mountinfo().contains(directory.path))
        #expect(namespaces.list(in: directory.path + "/netns") == [])
    }

    @Test func bridgeHostLocalAndFirewallAddCheckAndDeleteLeavingNothingBehind() async throws {
        let hostLinks = try await links("/proc/self/ns/net")
        try await withNamespaces {
            let list = try list()
            let result = try await runtime.add(list, attachment())

            // eth0 in the pod, with the address host-local gave.
            let eth0 = try #require(result.interface(named: "eth0", inSandbox: pod))
            let address = try #require(result.addresses(ofInterface: "eth0", inSandbox: pod).first)
            #expect(address.address.hasPrefix("10.250.0.") && address.prefixLength == 24)
            #expect(address.gateway == "10.250.0.1")
            let shown = try JSONValue.parse(try await NamespacedCommands(namespacePath: pod).run("ip", ["-j", "addr", "show", "dev", "eth0"]).stdout)
            let first = try #require(shown.arrayValue?.first)
            #expect(first["address"]?.stringValue == eth0.mac)
            #expect(first["addr_info"]?.arrayValue?.contains { $0["local"]?.stringValue == address.host && $0["prefixlen"]?.intValue == 24 } == true)
            let veth = try #require(result.interfaces.first { $0.sandbox == nil && $0.name.hasPrefix("veth") }?.name)
            #expect(try await links(node).sorted() == ["lo", "svtest0", veth].sorted())
            #expect(FileManager.default.fileExists(atPath: "\(dataDir)/svtest/\(address.host)"))
            let rules = try await inNode("iptables-save", [])
            #expect(rules.contains(#"id: \"svtest-sandbox-1\""#))  // ipMasq's chain in nat
            #expect(rules.contains("-A CNI-FORWARD -s \(address.host)/32 -j ACCEPT"))  // the firewall's
            #expect(try await inNode("cat", ["/proc/sys/net/ipv4/ip_forward"]) == "1\n")  // isGateway, in the node namespace
            #expect(try await links("/proc/self/ns/net") == hostLinks)  // the host's own network saw nothing

            #expect(try await runtime.check(list, attachment(), prevResult: result))

            try await runtime.delete(list, attachment(), prevResult: result)
            #expect(try await links(pod) == ["lo"])
            #expect(try await links(node).sorted() == ["lo", "svtest0"])  // the bridge is node infrastructure and stays
            #expect(!FileManager.default.fileExists(atPath: "\(dataDir)/svtest/\(address.host)"))
            let after = try await inNode("iptables-save", [])
            #expect(!after.contains("svtest-sandbox-1"))
            #expect(!after.contains(address.host))
            // Only the firewall plugin's shared chains are left (node infrastructure, like the bridge).
            #expect(after.split(separator: "\n").filter { $0.hasPrefix(":CNI-") }.compactMap { $0.split(separator: " ").first } == [":CNI-ADMIN", ":CNI-FORWARD"])

            // DEL again (an agent retrying after a crash) is fine.
            try await runtime.delete(list, attachment(), prevResult: result)
            try await runtime.delete(list, attachment(), prevResult: nil)
        }
    }

    @Test func aFailedAddIsUndoneWithTheRealPlugins() async throws {
        try await withNamespaces {
            // tuning fails after the bridge made the veth, took an address and wrote its iptables rules.
            let list = try list(extraPlugin: #"{"type":"tuning","sysctl":{"net.ipv4.conf.net1.svtest_no_such_sysctl":"1"}}"#)

            let error = try await #require(throws: VirtError.self) { try await runtime.add(list, attachment("net1")) }

            guard case .pluginFailed("tuning", "ADD", _, let message, _)? = error.cniError else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(message.contains("svtest_no_such_sysctl"), "\(message)")
            #expect(try await links(pod) == ["lo"])
            #expect(try await links(node).sorted() == ["lo", "svtest0"])
            let leases = (try? FileManager.default.contentsOfDirectory(atPath: "\(dataDir)/svtest")) ?? []
            #expect(leases.filter { $0.hasPrefix("10.") } == [])
            #expect(!(try await inNode("iptables-save", [])).contains("svtest-sandbox-1"))
            try await runtime.delete(list, attachment("net1"), prevResult: nil)  // and the teardown's DEL still succeeds
        }
    }

    @Test func aDELWithoutAResultCleansUpAfterAnAgentThatDiedDuringADD() async throws {
        try await withNamespaces {
            // The agent died after the bridge's ADD, before the firewall's and before it stored a result:
            // all it has is the list from its record.
            let list = try list()
            let bridgeOnly = try CNINetworkConfigList(json: list.json.settingPlugins([list.plugins[0].json]))
            let partial = try await runtime.add(bridgeOnly, attachment())
            let address = try #require(partial.ips.first?.host)
            #expect(try await links(pod).sorted() == ["eth0", "lo"])

            try await runtime.delete(list, attachment(), prevResult: nil)

            #expect(try await links(pod) == ["lo"])
            #expect(try await links(node).sorted() == ["lo", "svtest0"])
            #expect(!FileManager.default.fileExists(atPath: "\(dataDir)/svtest/\(address)"))
            let rules = try await inNode("iptables-save", [])
            #expect(!rules.contains("svtest-sandbox-1") && !rules.contains(address))
        }
    }

    @Test func aMissingIPAMPluginIsThePluginsOwnClearError() async throws {
        try await withNamespaces {
            let list = try CNINetworkConfigList.parse(#"{"cniVersion":"1.0.0","name":"svtest","type":"bridge","bridge":"svtest0","ipam":{"type":"svtest-no-such-ipam"}}"#)
            let error = try await #require(throws: VirtError.self) { try await runtime.add(list, attachment()) }
            #expect(error.description.contains(#"plugin bridge failed ADD with CNI error code 999: failed to find plugin "svtest-no-such-ipam" in path [/usr/lib/cni]"#), "\(error)")
            #expect(try await links(pod) == ["lo"])
        }
    }
}

extension JSONValue {
    /// A conflist with other plugins.
    fileprivate func settingPlugins(_ plugins: [[String: JSONValue]]) -> JSONValue {
        var copy = self
        copy["plugins"] = .array(plugins.map { .object($0) })
        return copy
    }
}
