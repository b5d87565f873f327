import Foundation
import Testing
import VirtAPI
import VirtError
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// Console, VNC and exec requests are checked and resolved before any websocket opens.
@Suite struct StreamEndpointTests {
    /// Node streams that are never opened: enough to see what the endpoint resolves.
    struct UnusedStreams: NodeStreams {
        func openStream(_ stream: GuestStream, node: String, namespace: String, pod: String) async throws -> GuestConnection {
            throw VirtError(.internal, "not opened in these tests")
        }
        func exec(node: String, namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> ExecOutcome {
            ExecOutcome(stdout: [], stderr: [], exitCode: 0)
        }
        func carryOut(_ verb: String, node: String, namespace: String, name: String) async throws {}
    }

    let store: SQLiteStore
    let endpoint: StreamEndpoint
    let directory: TemporaryDirectory

    init() async throws {
        directory = try TemporaryDirectory(prefix: "swiftvirt-streams")
        store = try SQLiteStore(path: directory.path + "/store.db")
        endpoint = StreamEndpoint(handler: ResourceHandler(store: store, registry: .standard), streams: UnusedStreams())
    }

    func seed(vmiPhase: String, podNode: String = "node-a", serial: Bool? = nil) async throws {
        var vmi: JSONValue = ["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                              "metadata": ["name": "vm1", "namespace": "default", "uid": "uid-1"],
                              "spec": ["domain": ["devices": [:]]], "status": ["phase": .string(vmiPhase)]]
        if let serial { vmi[path: ["spec", "domain", "devices", "autoattachSerialConsole"]] = .bool(serial) }
        _ = try await store.create(StoreKey(resource: "kubevirt.io/virtualmachineinstances", namespace: "default", name: "vm1"), object: vmi)
        let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod",
                              "metadata": ["name": "virt-launcher-vm1-abcde", "namespace": "default", "labels": ["kubevirt.io/created-by": "uid-1"]],
                              "spec": ["nodeName": .string(podNode), "containers": [["name": "compute"]]],
                              "status": ["phase": "Running"]]
        _ = try await store.create(StoreKey(resource: "/pods", namespace: "default", name: "virt-launcher-vm1-abcde"), object: pod)
    }

    static let console = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/vm1/console"
    static let exec = "/api/v1/namespaces/default/pods/virt-launcher-vm1-abcde/exec"

    func failure(_ path: String, _ query: [(String, String)] = []) async -> VirtError? {
        do {
            _ = try await endpoint.resolve(path: path, query: query)
            return nil
        } catch {
            return error as? VirtError
        }
    }

    @Test func consoleOfARunningVMIIsItsLauncherPodOnItsNode() async throws {
        try await seed(vmiPhase: "Running")
        #expect(try await endpoint.resolve(path: Self.console, query: []) == .guest(.console, node: "node-a", namespace: "default", pod: "virt-launcher-vm1-abcde"))
        let vnc = Self.console.replacingOccurrences(of: "/console", with: "/vnc")
        #expect(try await endpoint.resolve(path: vnc, query: []) == .guest(.vnc, node: "node-a", namespace: "default", pod: "virt-launcher-vm1-abcde"))
    }

    @Test func refusalsSayWhy() async throws {
        #expect(await failure(Self.console)?.code == .notFound)
        try await seed(vmiPhase: "Scheduling")
        let pending = await failure(Self.console)
        #expect(pending?.code == .badRequest)
        #expect(pending?.message.contains("its phase is Scheduling, not Running") == true)
    }

    @Test func aConsoleOnAnotherNodeGoesToThatNode() async throws {
        try await seed(vmiPhase: "Running", podNode: "node-b", serial: nil)
        #expect(try await endpoint.resolve(path: Self.console, query: []) == .guest(.console, node: "node-b", namespace: "default", pod: "virt-launcher-vm1-abcde"))
    }

    @Test func withoutAWayToNodeAgentsStreamsAreRefusedWithWhy() async throws {
        try await seed(vmiPhase: "Running")
        let plain = StreamEndpoint(handler: endpoint.handler, streams: nil)
        do {
            _ = try await plain.resolve(path: Self.console, query: [])
            Issue.record("a console resolved without a way to the node agent")
        } catch {
            #expect((error as? VirtError)?.code == .serviceUnavailable)
            #expect((error as? VirtError)?.message.contains("--insecure-http") == true)
        }
    }

    @Test func noSerialConsoleIsNamedByItsField() async throws {
        try await seed(vmiPhase: "Running", serial: false)
        #expect(await failure(Self.console)?.message.contains("autoattachSerialConsole is false") == true)
    }

    @Test func execKeepsTheCommandsOrderAndChecksItsParameters() async throws {
        try await seed(vmiPhase: "Running")
        let query = [("command", "qemu-img"), ("command", "info"), ("command", "/a b"), ("stdout", "true"), ("stderr", "1")]
        let target = try await endpoint.resolve(path: Self.exec, query: query)
        #expect(target == .exec(.init(node: "node-a", namespace: "default", pod: "virt-launcher-vm1-abcde", command: ["qemu-img", "info", "/a b"],
                                      stdin: false, stdout: true, stderr: true)))
        #expect(await failure(Self.exec, [("stdout", "true")])?.causes.first?.field == "command")
        #expect(await failure(Self.exec, query + [("tty", "true")])?.message.contains("drop -t/--tty") == true)
        #expect(await failure(Self.exec, query + [("container", "nope")])?.message.contains("its containers are: compute") == true)
    }

    @Test func subprotocols() {
        let guest = StreamEndpoint.Target.guest(.console, node: "n", namespace: "d", pod: "p")
        #expect(StreamEndpoint.negotiate(guest, offered: ["plain.kubevirt.io"]) == .accept("plain.kubevirt.io"))
        #expect(StreamEndpoint.negotiate(guest, offered: []) == .accept(nil))
        #expect(StreamEndpoint.negotiate(guest, offered: ["base64.binary.k8s.io"]) == .refuse)
        let exec = StreamEndpoint.Target.exec(.init(node: "n", namespace: "n", pod: "p", command: ["x"], stdin: false, stdout: true, stderr: true))
        #expect(StreamEndpoint.negotiate(exec, offered: ["v4.channel.k8s.io", "v5.channel.k8s.io"]) == .accept("v5.channel.k8s.io"))
        #expect(StreamEndpoint.negotiate(exec, offered: ["channel.k8s.io"]) == .refuse)
    }

    @Test func queriesKeepRepeatedKeys() {
        let (path, query) = WebSocketEdge.split("/api/v1/x/exec?command=ls&command=-l+a&command=%2Ftmp&stdout=true")
        #expect(path == "/api/v1/x/exec")
        #expect(query.map(\.0) == ["command", "command", "command", "stdout"])
        #expect(query.map(\.1) == ["ls", "-l a", "/tmp", "true"])
    }
}
