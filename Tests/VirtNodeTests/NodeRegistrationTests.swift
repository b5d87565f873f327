import Foundation
import Logging
import Synchronization
import Testing
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile
import VirtTestSupport

@testable import VirtNode

/// The Node's registration and heartbeat while another writer (the controllers' node IPAM setting
/// `spec.podCIDR`) changes the same Node between the agent's read and its write.
@Suite struct NodeRegistrationTests {
    /// Forwards to a `FakeAPIClient`; after each of the first `interruptions` reads of a Node it changes
    /// that Node, so the write built on the read meets a newer resourceVersion.
    final class InterruptingClient: APIClient {
        let inner: FakeAPIClient
        let remaining: Mutex<Int>

        init(_ inner: FakeAPIClient, interruptions: Int) {
            self.inner = inner
            self.remaining = Mutex(interruptions)
        }

        func get(_ path: ResourcePath) async throws(VirtError) -> JSONValue {
            let object = try await inner.get(path)
            if path.resource == "nodes", remaining.withLock({ count in
                defer { count -= 1 }
                return count > 0
            }) {
                let cidr = JSONValue.string("10.244.\(remaining.withLock { $0 }).0/24")
                _ = try await inner.patch(path, mergePatch: ["spec": ["podCIDR": cidr]])
            }
            return object
        }
        func list(_ path: ResourcePath, labelSelector: String?, fieldSelector: String?) async throws(VirtError) -> JSONValue {
            try await inner.list(path, labelSelector: labelSelector, fieldSelector: fieldSelector)
        }
        func create(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue { try await inner.create(path, body: body) }
        func update(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue { try await inner.update(path, body: body) }
        func updateStatus(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> JSONValue { try await inner.updateStatus(path, body: body) }
        func patch(_ path: ResourcePath, mergePatch: JSONValue) async throws(VirtError) -> JSONValue { try await inner.patch(path, mergePatch: mergePatch) }
        func delete(_ path: ResourcePath, propagationPolicy: PropagationPolicy?, gracePeriodSeconds: Int?) async throws(VirtError) -> JSONValue {
            try await inner.delete(path, propagationPolicy: propagationPolicy, gracePeriodSeconds: gracePeriodSeconds)
        }
        func watch(_ path: ResourcePath, resourceVersion: String?, labelSelector: String?, fieldSelector: String?) -> AsyncThrowingStream<WatchEvent, any Error> {
            inner.watch(path, resourceVersion: resourceVersion, labelSelector: labelSelector, fieldSelector: fieldSelector)
        }
    }

    func registration(_ client: any APIClient, port: Int = 10250) -> NodeRegistration {
        var configuration = NodeRegistration.Configuration(
            nodeName: "node-b", accelerator: .init(accelerator: .tcg, reason: "emulation forced with --emulation"))
        configuration.endpointPort = port
        return NodeRegistration(client: client, configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func heartbeatWritesTheStatusWhenTheNodeChangedSinceItWasRead() async throws {
        let fake = FakeAPIClient()
        let client = InterruptingClient(fake, interruptions: 0)
        try await registration(client).register()
        client.remaining.withLock { $0 = 3 }
        try await registration(client, port: 4242).heartbeat()
        let node = try #require(fake.object(.core("nodes", name: "node-b")))
        #expect(node[path: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"]]?.intValue == 4242)
        #expect(node[path: ["spec", "podCIDR"]]?.stringValue == "10.244.0.0/24", "the other writer's change survives")
        #expect(client.remaining.withLock { $0 } < 0, "every interruption happened")
    }

    @Test func reRegisteringKeepsTheSpecAndMergesLabelsDespiteConflicts() async throws {
        let fake = FakeAPIClient()
        _ = fake.seed(.core("nodes"), ["apiVersion": "v1", "kind": "Node",
                                       "metadata": ["name": "node-b", "labels": ["zone": "a", "kubernetes.io/hostname": "old"]],
                                       "spec": ["podCIDR": "10.244.9.0/24"]])
        let client = InterruptingClient(fake, interruptions: 2)
        try await registration(client).register()
        try await registration(client).heartbeat()
        let node = try #require(fake.object(.core("nodes", name: "node-b")))
        #expect(node[path: ["metadata", "labels", "zone"]]?.stringValue == "a")
        #expect(node[path: ["metadata", "labels", "kubernetes.io/hostname"]]?.stringValue == "node-b")
        #expect(node[path: ["spec", "podCIDR"]]?.stringValue != nil)
        #expect(node[path: ["status", "conditions"]]?.arrayValue?.count == 2)
    }

    @Test func aWriterThatNeverStopsIsReportedAsTheConflict() async throws {
        let fake = FakeAPIClient()
        let client = InterruptingClient(fake, interruptions: 0)
        try await registration(client).register()
        client.remaining.withLock { $0 = 1000 }
        let error = await #expect(throws: VirtError.self) { try await registration(client).heartbeat() }
        #expect(error?.code == .conflict)
    }
}
