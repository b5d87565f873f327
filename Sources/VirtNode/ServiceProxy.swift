import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtError
import VirtNetwork
import VirtOS
import VirtReconcile

/// Carries Services to their endpoints on this node: after any change to a Service or an EndpointSlice,
/// the node's nftables table is rendered again from the caches (``ServiceRules``) and, when it differs
/// from what was applied, replaced in one transaction. So rules follow a VM that restarts elsewhere (its
/// pod's new address reaches the slice) and go with the Service.
public struct ServiceProxy: Reconciler {
    /// The one key every change queues.
    public static let key = ObjectKey(namespace: nil, name: "rules")

    let services: ObjectCache
    let slices: ObjectCache
    let table: String
    let nodeName: String
    /// The pod bridge, where node ports on 127.0.0.1 go out (nil: no pod network).
    let bridge: String?
    let runner: any CommandRunner
    let logger: Logger
    private let applied = Applied()

    final class Applied: Sendable {
        /// The rules last applied, which the next change is written against.
        let rules = Mutex<ServiceRules?>(nil)
    }

    public init(services: ObjectCache, slices: ObjectCache, nodeName: String, bridge: String? = nil, runner: any CommandRunner = ProcessRunner(),
                logger: Logger) {
        self.bridge = bridge
        self.services = services
        self.slices = slices
        self.table = ServiceRules.tableName(node: nodeName)
        self.nodeName = nodeName
        self.runner = runner
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let rules = ServiceRules(table: table, entries: ServiceRules.entries(services: services.list(), slices: slices.list(), node: nodeName),
                                 podBridge: bridge)
        let ruleset = rules.ruleset
        let previous = applied.rules.withLock { $0 }
        if previous?.ruleset == ruleset {
            allowLoopbackNodePorts()
            return .done
        }
        // After the first apply of this agent, the table is changed rather than replaced, so the clients
        // of affinity sets that stay are kept; the first replaces whatever an earlier agent left.
        let transaction = previous.map { rules.ruleset(after: $0) } ?? ruleset
        let result = try await runner.run("nft", ["-f", "-"], environment: nil, input: Array(transaction.utf8))
        guard result.exitCode == 0 else {
            // The next try replaces the table, whatever this one left.
            applied.rules.withLock { $0 = nil }
            throw VirtError(.internal, "nft -f failed for the Services' table \(table): \(NamespacedCommands.text(result))")
        }
        applied.rules.withLock { $0 = rules }
        // Only with the table's guard in place (it drops what else would reach the loopback).
        allowLoopbackNodePorts()
        logger.debug("services: \(rules.entries.count) in table \(table)")
        return .done
    }

    /// Deletes the node's table, when the agent stops (synchronously: the agent's tasks are cancelled by then).
    public func removeTable() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nft")
        process.arguments = ["delete", "table", "ip", table]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            logger.warning("cannot delete the Services' table \(table): \(error)")
        }
        applied.rules.withLock { $0 = nil }
    }

    /// `route_localnet` on the pod bridge, once the bridge exists (its first pod makes it; the pod's
    /// EndpointSlice brings the next reconcile).
    func allowLoopbackNodePorts() {
        guard let bridge else { return }
        let path = "/proc/sys/" + ServiceRules.localnetSysctl(bridge: bridge)
        guard let now = try? String(contentsOfFile: path, encoding: .utf8), now.trimmingCharacters(in: .whitespacesAndNewlines) != "1" else { return }
        do {
            try "1\n".write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            logger.warning("cannot set \(path) (node ports on 127.0.0.1 will not answer): \(error)")
        }
    }
}
