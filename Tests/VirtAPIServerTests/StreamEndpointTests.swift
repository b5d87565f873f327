import Foundation
import Testing
import VirtAPI
import VirtError
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// Console, VNC and exec requests are checked and resolved before any websocket opens.
@Suite struct StreamEndpointTests {
    /// Node streams that name sockets by pod and record nothing: enough to see what the endpoint resolves.
    struct NamingStreams: NodeStreams {
        let nodeName = "node-a"
        func socketPath(_ stream: GuestStream, namespace: String, pod: String) async throws -> String {
            "/pods/\(namespace)_\(pod)/\(stream.rawValue).sock"
        }
        func exec(namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> ExecOutcome {
            ExecOutcome(stdout: [], stderr: [], exitCode: 0)
        }
    }

    let store: SQLiteStore
    let endpoint: StreamEndpoint
    let directory: TemporaryDirectory

    init() async throws {
        directory = try TemporaryDirectory(prefix: "swiftvirt-streams")
        store = try SQLiteStore(path: directory.path + "/store.db")
        endpoint = StreamEndpoint(handler: ResourceHandler(store: store, registry: .standard), streams: NamingStreams())
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

    @Test func consoleOfARunningVMIIsItsLauncherPodsSocket() async throws {
        try await seed(vmiPhase: "Running")
        #expect(try await endpoint.resolve(path: Self.console, query: []) == .guest(.console, socketPath: "/pods/default_virt-launcher-vm1-abcde/console.sock"))
        let vnc = Self.console.replacingOccurrences(of: "/console", with: "/vnc")
        #expect(try await endpoint.resolve(path: vnc, query: []) == .guest(.vnc, socketPath: "/pods/default_virt-launcher-vm1-abcde/vnc.sock"))
    }

    @Test func refusalsSayWhy() async throws {
        #expect(await failure(Self.console)?.code == .notFound)
        try await seed(vmiPhase: "Scheduling")
        let pending = await failure(Self.console)
        #expect(pending?.code == .badRequest)
        #expect(pending?.message.contains("its phase is Scheduling, not Running") == true)
    }

    @Test func aConsoleTurnedOffOrOnAnotherNodeIsRefused() async throws {
        try await seed(vmiPhase: "Running", podNode: "node-b", serial: nil)
        let elsewhere = await failure(Self.console)
        #expect(elsewhere?.code == .serviceUnavailable)
        #expect(elsewhere?.message.contains("runs on node node-b") == true)
    }

    @Test func noSerialConsoleIsNamedByItsField() async throws {
        try await seed(vmiPhase: "Running", serial: false)
        #expect(await failure(Self.console)?.message.contains("autoattachSerialConsole is false") == true)
    }

    @Test func execKeepsTheCommandsOrderAndChecksItsParameters() async throws {
        try await seed(vmiPhase: "Running")
        let query = [("command", "qemu-img"), ("command", "info"), ("command", "/a b"), ("stdout", "true"), ("stderr", "1")]
        let target = try await endpoint.resolve(path: Self.exec, query: query)
        #expect(target == .exec(.init(namespace: "default", pod: "virt-launcher-vm1-abcde", command: ["qemu-img", "info", "/a b"],
                                      stdin: false, stdout: true, stderr: true)))
        #expect(await failure(Self.exec, [("stdout", "true")])?.causes.first?.field == "command")
        #expect(await failure(Self.exec, query + [("tty", "true")])?.message.contains("drop -t/--tty") == true)
        #expect(await failure(Self.exec, query + [("container", "nope")])?.message.contains("its containers are: compute") == true)
    }

    @Test func subprotocols() {
        let guest = StreamEndpoint.Target.guest(.console, socketPath: "/s")
        #expect(StreamEndpoint.negotiate(guest, offered: ["plain.kubevirt.io"]) == .accept("plain.kubevirt.io"))
        #expect(StreamEndpoint.negotiate(guest, offered: []) == .accept(nil))
        #expect(StreamEndpoint.negotiate(guest, offered: ["base64.binary.k8s.io"]) == .refuse)
        let exec = StreamEndpoint.Target.exec(.init(namespace: "n", pod: "p", command: ["x"], stdin: false, stdout: true, stderr: true))
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
