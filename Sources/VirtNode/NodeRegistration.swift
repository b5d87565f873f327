import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// Registers this machine's Node (capacity, allocatable, labels, conditions) and keeps it alive with a
/// Lease in `kube-node-lease`, renewed every `heartbeat`.
public struct NodeRegistration: Service {
    public struct Configuration: Sendable {
        public var nodeName: String
        /// The node's InternalIP.
        public var nodeAddress: String
        public var accelerator: AcceleratorProbe.Result
        public var heartbeat: Duration
        /// Memory kept back from pods for the host and SwiftVirt itself.
        public var reservedMemoryBytes: Int64
        /// The port of the agent's HTTPS endpoint (`status.daemonEndpoints.kubeletEndpoint.Port`); 0 until it listens.
        public var endpointPort: Int = 0

        public init(nodeName: String, nodeAddress: String = "127.0.0.1", accelerator: AcceleratorProbe.Result, heartbeat: Duration = .seconds(10),
                    reservedMemoryBytes: Int64 = 512 << 20) {
            self.nodeName = nodeName
            self.nodeAddress = nodeAddress
            self.accelerator = accelerator
            self.heartbeat = heartbeat
            self.reservedMemoryBytes = reservedMemoryBytes
        }
    }

    let client: any APIClient
    var configuration: Configuration
    let logger: Logger

    public init(client: any APIClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    static let leaseDurationSeconds: Int64 = 40

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await renewLease()
                    try await heartbeat()
                } catch {
                    logger.warning("node heartbeat failed: \(error)")
                }
                do {
                    try await Task.sleep(for: configuration.heartbeat)
                } catch {
                    return
                }
            }
        }
    }

    var nodePath: ResourcePath { .core("nodes", name: configuration.nodeName) }

    /// The Node as this agent reports it.
    func nodeObject() -> JSONValue {
        let capacity = Self.hostCapacity()
        let allocatableMemory = max(0, capacity.memoryBytes - configuration.reservedMemoryBytes)
        var capacityObject: [String: JSONValue] = [
            "cpu": .string(String(capacity.cpus)), "memory": .string("\(capacity.memoryBytes / 1024)Ki"), "pods": "110",
            "devices.kubevirt.io/tun": "1000",
        ]
        if configuration.accelerator.accelerator == .kvm { capacityObject["devices.kubevirt.io/kvm"] = "1000" }
        var allocatable = capacityObject
        allocatable["memory"] = .string("\(allocatableMemory / 1024)Ki")
        return [
            "apiVersion": "v1", "kind": "Node",
            "metadata": [
                "name": .string(configuration.nodeName),
                "labels": [
                    "kubernetes.io/hostname": .string(configuration.nodeName), "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64", "kubevirt.io/schedulable": "true",
                ],
            ],
            "spec": [:],
            "status": [
                "capacity": .object(capacityObject), "allocatable": .object(allocatable),
                "conditions": .array(conditions()),
                "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(configuration.endpointPort))]],
                "addresses": [["type": "Hostname", "address": .string(configuration.nodeName)], ["type": "InternalIP", "address": .string(configuration.nodeAddress)]],
                "nodeInfo": [
                    "kubeletVersion": "v1.32.0-swiftvirt", "operatingSystem": "linux", "architecture": "amd64",
                    "kernelVersion": .string(Self.kernelVersion()), "osImage": "SwiftVirt node agent",
                    "containerRuntimeVersion": "runc",
                ],
            ],
        ]
    }

    func conditions() -> [JSONValue] {
        let now = JSONValue.string(Date().formatted(.iso8601))
        let emulated = configuration.accelerator.accelerator == .tcg
        return [
            ["type": "Ready", "status": "True", "reason": "AgentReady", "message": "the SwiftVirt node agent is running",
             "lastHeartbeatTime": now, "lastTransitionTime": now],
            ["type": "KVMAvailable", "status": emulated ? "False" : "True", "reason": emulated ? "UsingEmulation" : "KVM",
             "message": .string(configuration.accelerator.reason), "lastHeartbeatTime": now, "lastTransitionTime": now],
        ]
    }

    /// Creates the Node, or brings an existing one's labels up to date; `heartbeat()` then writes its status.
    func register() async throws {
        let node = nodeObject()
        let created: Bool
        do {
            _ = try await client.create(.core("nodes"), body: node)
            created = true
        } catch {
            guard error.code == .exists else { throw error }
            created = false
        }
        logger.info("registered node \(configuration.nodeName) (\(configuration.accelerator.accelerator.rawValue): \(configuration.accelerator.reason))")
        if !created {
            try await updateRetryingConflicts { current in
                var labels = current[path: ["metadata", "labels"]]?.objectValue ?? [:]
                for (key, value) in node[path: ["metadata", "labels"]]?.objectValue ?? [:] { labels[key] = value }
                current[path: ["metadata", "labels"]] = .object(labels)
            }
        }
    }

    /// Reads the Node, changes it with `change` and writes it back (its status, with `status`), starting
    /// over from a fresh read when someone else wrote in between (the controllers set `spec.podCIDR` while
    /// the agent joins).
    func updateRetryingConflicts(status: Bool = false, attempts: Int = 8, _ change: (inout JSONValue) -> Void) async throws {
        var attempt = 0
        while true {
            attempt += 1
            var current = try await client.get(nodePath)
            change(&current)
            do {
                _ = status ? try await client.updateStatus(nodePath, body: current) : try await client.update(nodePath, body: current)
                return
            } catch {
                guard error.code == .conflict, attempt < attempts else { throw error }
            }
        }
    }

    /// Reads the Node's `spec.podCIDR` (the controllers' node IPAM sets it once), remembering it after the
    /// first answer; throws while the Node has none yet.
    static func podCIDR(client: any APIClient, nodeName: String) -> @Sendable () async throws -> IPv4CIDR {
        let known = Mutex<IPv4CIDR?>(nil)
        return {
            if let cidr = known.withLock({ $0 }) { return cidr }
            let node = try await client.get(KubeVirt.nodes.named(nodeName))
            guard let text = node[path: ["spec", "podCIDR"]]?.stringValue, !text.isEmpty else {
                throw VirtError(.serviceUnavailable, "node \(nodeName) has no pod network yet: its spec.podCIDR is empty (the controllers give it one; is swiftvirtd --role controllers running?)")
            }
            let cidr = try IPv4CIDR(parsing: text)
            known.withLock { $0 = cidr }
            return cidr
        }
    }

    /// Writes the Node's status as the agent sees it now.
    func heartbeat() async throws {
        let status = nodeObject()["status"]
        try await updateRetryingConflicts(status: true) { $0["status"] = status }
    }

    func renewLease() async throws {
        let path = ResourcePath(group: "coordination.k8s.io", version: "v1", resource: "leases", namespace: "kube-node-lease", name: configuration.nodeName)
        let now = JSONValue.string(Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        let existing: JSONValue?
        do {
            existing = try await client.get(path)
        } catch {
            guard error.code == .notFound else { throw error }
            existing = nil
        }
        if var lease = existing {
            lease[path: ["spec", "renewTime"]] = now
            lease[path: ["spec", "holderIdentity"]] = .string(configuration.nodeName)
            _ = try await client.update(path, body: lease)
        } else {
            _ = try await client.create(path, body: [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": ["name": .string(configuration.nodeName), "namespace": "kube-node-lease"],
                "spec": ["holderIdentity": .string(configuration.nodeName), "leaseDurationSeconds": .int(Self.leaseDurationSeconds),
                         "acquireTime": now, "renewTime": now],
            ])
        }
    }

    static func hostCapacity() -> (cpus: Int, memoryBytes: Int64) {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        var memory = Int64(ProcessInfo.processInfo.physicalMemory)
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
           let kib = Int64(line.split(separator: " ").dropFirst().first ?? "")
        {
            memory = kib * 1024
        }
        return (cpus, memory)
    }

    static func kernelVersion() -> String {
        (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}
