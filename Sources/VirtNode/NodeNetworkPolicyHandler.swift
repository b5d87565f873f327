import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtError
import VirtNetwork
import VirtOS
import VirtReconcile

/// nmstate on this node: each NodeNetworkConfigurationPolicy whose `nodeSelector` matches the Node is
/// applied to the node's own interfaces with `ip` (``HostNetworkPlan``), checked against the links as they
/// are afterwards, and kept only if the API server still answers; otherwise the node is put back as it
/// was (``HostNetworkPlan/rollback(to:touched:now:)``) and the policy's enactment says why it is Failing.
/// Each enactment is a NodeNetworkConfigurationEnactment `<node>.<policy>`; the policy's status counts
/// its enactments; the NodeNetworkState named as the node shows its interfaces after every change.
///
/// Policies are applied one at a time (one worker), each generation once: a policy that failed is not
/// tried again until it changes.
public struct NodeNetworkPolicyHandler: Reconciler {
    public static let policies = ResourcePath(group: "nmstate.io", version: "v1", resource: "nodenetworkconfigurationpolicies")
    public static let enactments = ResourcePath(group: "nmstate.io", version: "v1beta1", resource: "nodenetworkconfigurationenactments")
    public static let states = ResourcePath(group: "nmstate.io", version: "v1beta1", resource: "nodenetworkstates")
    /// The labels an enactment carries: its node and its policy.
    public static let nodeLabel = "nmstate.io/node"
    public static let policyLabel = "nmstate.io/policy"

    /// How an enactment came out.
    struct Outcome: Sendable, Equatable {
        var available: Bool
        var message: String
    }

    let client: any APIClient
    let policyCache: ObjectCache
    let nodeName: String
    let runner: any CommandRunner
    /// How long the API server may take to answer after a change before the change is rolled back.
    let probeTimeout: Duration
    let logger: Logger
    /// Outcomes by policy name and generation: one that could not be written (the API server was away)
    /// is written later rather than enacted again.
    private let outcomes = Outcomes()

    final class Outcomes: Sendable {
        private let table = Mutex<[String: (generation: Int64, outcome: Outcome)]>([:])
        func withLock<T>(_ body: (inout [String: (generation: Int64, outcome: Outcome)]) -> T) -> T { table.withLock { body(&$0) } }
    }

    public init(client: any APIClient, policies: ObjectCache, nodeName: String, runner: any CommandRunner = ProcessRunner(),
                probeTimeout: Duration = .seconds(10), logger: Logger) {
        self.client = client
        self.policyCache = policies
        self.nodeName = nodeName
        self.runner = runner
        self.probeTimeout = probeTimeout
        self.logger = logger
    }

    func enactmentName(_ policy: String) -> String { "\(nodeName).\(policy)" }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let name = key.name
        guard let policy = policyCache.get(ObjectKey(namespace: nil, name: name)), policy.metadataDeletionTimestamp == nil else {
            try await deleteIfPresent(Self.enactments.named(enactmentName(name)))
            outcomes.withLock { _ = $0.removeValue(forKey: name) }
            return .done
        }
        let node = try await client.get(KubeVirt.nodes.named(nodeName))
        let labels = node.metadataLabels
        let selector = (policy[path: ["spec", "nodeSelector"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        guard selector.allSatisfy({ labels[$0.key] == $0.value }) else {
            // Not this node's (any more): no enactment; the links stay as they are, as nmstate leaves them.
            // Should the node's labels match again, the policy is enacted afresh.
            outcomes.withLock { _ = $0.removeValue(forKey: name) }
            try await deleteIfPresent(Self.enactments.named(enactmentName(name)))
            try await writePolicyStatus(name)
            return .done
        }
        let generation = policy.metadataGeneration ?? 1
        let desired = policy[path: ["spec", "desiredState"]] ?? .null
        let known = outcomes.withLock { $0[name] }
        var outcome: Outcome
        if let known, known.generation == generation {
            // Enacted by this agent: only what could not be written is left to write (the policy's own
            // status writes come back here as events).
            if let existing = try await getIfPresent(Self.enactments.named(enactmentName(name))),
               existing[path: ["status", "policyGeneration"]]?.intValue == generation, Self.reportedOutcome(existing) == known.outcome {
                return .done
            }
            outcome = known.outcome
        } else {
            let existing = try await getIfPresent(Self.enactments.named(enactmentName(name)))
            // Reported already (by this agent before it restarted): kept, unless the node no longer has it
            // (`ip` settings do not survive a reboot), which is enacted again.
            if let existing, existing[path: ["status", "policyGeneration"]]?.intValue == generation,
               let reported = Self.reportedOutcome(existing), try await stillHolds(reported, desired) {
                outcomes.withLock { $0[name] = (generation, reported) }
                return .done
            }
            try await writeEnactment(policy: policy, generation: generation, conditions: Self.conditions(progressing: true, outcome: nil))
            outcome = await enact(desired, policy: name)
            outcomes.withLock { $0[name] = (generation, outcome) }
            if outcome.available {
                logger.info("node network policy \(name) applied on \(nodeName)")
            } else {
                logger.warning("node network policy \(name) failed on \(nodeName): \(outcome.message)")
            }
        }
        try await writeEnactment(policy: policy, generation: generation, conditions: Self.conditions(progressing: false, outcome: outcome))
        try await writeState()
        try await writePolicyStatus(name)
        return .done
    }

    // MARK: - Enacting

    /// Whether a reported outcome still describes the node: a failure does (it is not retried until the
    /// policy changes); a success while the links still match the desired state.
    func stillHolds(_ outcome: Outcome, _ desiredState: JSONValue) async throws -> Bool {
        guard outcome.available, let desired = try? NMStateInterface.interfaces(desiredState: desiredState),
              let routes = try? NMStateRoute.routes(desiredState: desiredState) else { return true }
        guard HostNetworkPlan.differences(desired, now: try await readLinks()).isEmpty else { return false }
        return HostNetworkPlan.routeDifferences(routes, now: try await readRoutes()).isEmpty
    }

    /// Applies `desiredState`, checks it took and that the API server still answers; puts everything back
    /// when any of that fails.
    func enact(_ desiredState: JSONValue, policy: String) async -> Outcome {
        let desired: [NMStateInterface]
        let desiredRoutes: [NMStateRoute]
        do {
            desired = try NMStateInterface.interfaces(desiredState: desiredState)
            desiredRoutes = try NMStateRoute.routes(desiredState: desiredState)
        } catch {
            return Outcome(available: false, message: error.message)
        }
        let snapshot: [HostLink]
        let routeSnapshot: [HostRoute]
        let plan: HostNetworkPlan
        do {
            snapshot = try await readLinks()
            routeSnapshot = try await readRoutes()
            plan = try HostNetworkPlan.apply(desired, to: snapshot)
        } catch {
            return Outcome(available: false, message: (error as? VirtError)?.message ?? "\(error)")
        }
        var failure: String?
        var routeUndo: [String] = []
        do {
            try await batch("ip", plan.ipCommands)
            try await batch("bridge", plan.bridgeCommands)
            // Routes once their interfaces are there, against the routes as the link changes left them.
            let routes = HostNetworkPlan.routes(desiredRoutes, current: try await readRoutes())
            routeUndo = routes.undo
            try await batch("ip", routes.apply)
            let differences = HostNetworkPlan.differences(desired, now: try await readLinks())
                + HostNetworkPlan.routeDifferences(desiredRoutes, now: try await readRoutes())
            if !differences.isEmpty { failure = "the node did not take the desired state: " + differences.joined(separator: "; ") }
        } catch {
            failure = (error as? VirtError)?.message ?? "\(error)"
        }
        if failure == nil, let lost = await apiServerUnreachable() {
            failure = "the node lost the API server after the change (\(lost))"
        }
        guard let failure else { return Outcome(available: true, message: "successfully reconciled") }
        let undone = await rollBack(to: snapshot, routes: routeSnapshot, routeUndo: routeUndo, touched: plan.touched)
        return Outcome(available: false, message: "\(failure); \(undone)")
    }

    /// Puts the routes and the touched interfaces back as they were; says how that went.
    func rollBack(to snapshot: [HostLink], routes routeSnapshot: [HostRoute], routeUndo: [String], touched: Set<String>) async -> String {
        do {
            // `-force` goes on past a line that fails (a route that was never added).
            func force(_ lines: [String]) async throws {
                if !lines.isEmpty { _ = try await runner.run("ip", ["-force", "-batch", "-"], environment: nil, input: Array((lines.joined(separator: "\n") + "\n").utf8)) }
            }
            try await force(routeUndo)
            try await force(HostNetworkPlan.rollback(to: snapshot, touched: touched, now: try await readLinks()))
            let lost = HostNetworkPlan.lostRoutes(snapshot: routeSnapshot, now: try await readRoutes(), touched: touched)
            try await force(lost)
            let left = HostNetworkPlan.rollback(to: snapshot, touched: touched, now: try await readLinks())
                .filter { !$0.hasSuffix(" up") && !$0.hasSuffix(" down") }
                + HostNetworkPlan.lostRoutes(snapshot: routeSnapshot, now: try await readRoutes(), touched: touched)
            return left.isEmpty ? "rolled back to the previous state" : "rolled back, except: \(left.joined(separator: "; "))"
        } catch {
            return "and the rollback failed: \((error as? VirtError)?.message ?? "\(error)")"
        }
    }

    /// nil when the API server answers within `probeTimeout` (tried a few times), else why not.
    func apiServerUnreachable() async -> String? {
        let deadline = ContinuousClock.now + probeTimeout
        var last = "no answer"
        while ContinuousClock.now < deadline {
            let remaining = deadline - ContinuousClock.now
            let attempt = min(remaining, .seconds(3))
            let client = self.client
            let path = KubeVirt.nodes.named(nodeName)
            if let failure = await Self.within(attempt, { _ = try await client.get(path) }) {
                last = failure
                try? await Task.sleep(for: .milliseconds(200))
            } else {
                return nil
            }
        }
        return "no answer within \(probeTimeout): \(last)"
    }

    /// Runs `body` with a time limit; nil when it finished in time without error. A body that overruns is
    /// left to end on its own.
    static func within(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> String? {
        let once = Once()
        return await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            once.set(continuation)
            Task {
                do {
                    try await body()
                    once.resume(nil)
                } catch {
                    once.resume((error as? VirtError)?.message ?? "\(error)")
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                once.resume("no answer within \(limit)")
            }
        }
    }

    /// A continuation resumed by whichever comes first.
    final class Once: Sendable {
        private let continuation = Mutex<CheckedContinuation<String?, Never>?>(nil)
        func set(_ value: CheckedContinuation<String?, Never>) { continuation.withLock { $0 = value } }
        func resume(_ value: String?) { continuation.withLock { $0.take() }?.resume(returning: value) }
    }

    func batch(_ tool: String, _ lines: [String]) async throws {
        guard !lines.isEmpty else { return }
        let result = try await runner.run(tool, ["-batch", "-"], environment: nil, input: Array((lines.joined(separator: "\n") + "\n").utf8))
        guard result.exitCode == 0 else {
            let location = NamespacedCommands.failedLine(result.stderrText).flatMap { number in
                lines.indices.contains(number - 1) ? " at \"\(lines[number - 1])\"" : nil
            } ?? ""
            throw VirtError(.internal, "\(tool) failed\(location): \(NamespacedCommands.text(result, dropping: "Command failed "))")
        }
    }

    func readLinks() async throws -> [HostLink] {
        let result = try await runner.run("ip", ["-j", "-d", "addr", "show"], environment: nil, input: nil)
        guard result.exitCode == 0 else { throw VirtError(.internal, "ip -j -d addr show failed: \(NamespacedCommands.text(result))") }
        return try HostLink.parse(result.stdout)
    }

    func readRoutes() async throws -> [HostRoute] {
        let result = try await runner.run("ip", ["-j", "-4", "route", "show", "table", "all"], environment: nil, input: nil)
        guard result.exitCode == 0 else { throw VirtError(.internal, "ip -j -4 route show table all failed: \(NamespacedCommands.text(result))") }
        return try HostRoute.parse(result.stdout)
    }

    // MARK: - Reporting

    /// The outcome an enactment already reports for its generation, if it finished.
    static func reportedOutcome(_ enactment: JSONValue) -> Outcome? {
        let conditions = enactment[path: ["status", "conditions"]]?.arrayValue ?? []
        func condition(_ type: String) -> JSONValue? { conditions.first { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" } }
        if let available = condition("Available") { return Outcome(available: true, message: available["message"]?.stringValue ?? "") }
        if let failing = condition("Failing") { return Outcome(available: false, message: failing["message"]?.stringValue ?? "") }
        return nil
    }

    /// nmstate's five enactment conditions, exactly one of them True.
    static func conditions(progressing: Bool, outcome: Outcome?, now: String = Self.now()) -> JSONValue {
        func condition(_ type: String, _ on: Bool, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": on ? "True" : "False", "reason": .string(on ? reason : ""), "message": .string(on ? message : ""),
             "lastTransitionTime": .string(now), "lastHeartbeatTime": .string(now)]
        }
        let available = outcome?.available == true && !progressing
        let failing = outcome?.available == false && !progressing
        return [
            condition("Failing", failing, "FailedToConfigure", outcome?.message ?? ""),
            condition("Available", available, "SuccessfullyConfigured", outcome?.message ?? ""),
            condition("Progressing", progressing, "ConfigurationProgressing", "Applying desired state"),
            condition("Pending", false, "MaxUnavailableLimitReached", ""),
            condition("Aborted", false, "ConfigurationAborted", ""),
        ]
    }

    static func now() -> String { Date().formatted(Date.ISO8601FormatStyle()) }

    func writeEnactment(policy: JSONValue, generation: Int64, conditions: JSONValue) async throws {
        let policyName = policy.metadataName ?? ""
        let path = Self.enactments.named(enactmentName(policyName))
        var object = try await getIfPresent(path)
        if object == nil {
            let body: JSONValue = [
                "apiVersion": "nmstate.io/v1beta1", "kind": "NodeNetworkConfigurationEnactment",
                "metadata": [
                    "name": .string(enactmentName(policyName)),
                    "labels": [Self.nodeLabel: .string(nodeName), Self.policyLabel: .string(policyName)],
                    "ownerReferences": [[
                        "apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "name": .string(policyName),
                        "uid": .string(policy.metadataUID ?? ""),
                    ]],
                ],
            ]
            object = try await createOrGet(Self.enactments, path, body)
        }
        guard var object else { return }
        object["status"] = [
            "desiredState": policy[path: ["spec", "desiredState"]] ?? .null, "policyGeneration": .int(generation), "conditions": conditions,
        ]
        _ = try await client.updateStatus(path, body: object)
    }

    /// The policy's conditions from its enactments: Available when all of them are, Degraded when one
    /// fails, Progressing while one runs.
    func writePolicyStatus(_ policyName: String) async throws {
        let listed = try await client.list(Self.enactments, labelSelector: "\(Self.policyLabel)=\(policyName)", fieldSelector: nil)
        let items = listed["items"]?.arrayValue ?? []
        let outcomes = items.map { Self.reportedOutcome($0) }
        let failed = outcomes.filter { $0?.available == false }.count
        let available = outcomes.filter { $0?.available == true }.count
        let total = items.count
        let now = Self.now()
        func condition(_ type: String, _ on: Bool, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": on ? "True" : "False", "reason": .string(reason), "message": .string(message), "lastTransitionTime": .string(now),
             "lastHeartbeatTime": .string(now)]
        }
        let progressing = total > failed + available
        let conditions: JSONValue = [
            condition("Available", !progressing && failed == 0 && total > 0, failed == 0 ? "SuccessfullyConfigured" : "FailedToConfigure",
                      "\(available)/\(total) nodes successfully configured"),
            condition("Degraded", !progressing && failed > 0, "FailedToConfigure", "\(failed)/\(total) nodes failed to configure"),
            condition("Progressing", progressing, "ConfigurationProgressing", "Policy is progressing \(total - failed - available)/\(total) nodes"),
        ]
        let path = Self.policies.named(policyName)
        for _ in 0..<5 {
            guard var policy = try await getIfPresent(path) else { return }
            policy["status"] = ["conditions": conditions, "unavailableNodeCountMap": [:], "lastUnavailableNodeCountUpdate": .string(now)]
            if try await client.updateStatusUnlessConflict(path, body: policy) { return }
        }
    }

    /// The NodeNetworkState named as the node: its interfaces now.
    public func writeState() async throws {
        var current = HostLink.currentState(try await readLinks())
        current["routes"] = HostRoute.currentState(try await readRoutes())
        let path = Self.states.named(nodeName)
        var object = try await getIfPresent(path)
        if object == nil {
            let body: JSONValue = [
                "apiVersion": "nmstate.io/v1beta1", "kind": "NodeNetworkState",
                "metadata": ["name": .string(nodeName), "labels": [Self.nodeLabel: .string(nodeName)]],
            ]
            object = try await createOrGet(Self.states, path, body)
        }
        guard var object else { return }
        object["status"] = ["currentState": current, "lastSuccessfulUpdateTime": .string(Self.now()), "handlerNmstateVersion": "swiftvirt"]
        _ = try await client.updateStatus(path, body: object)
    }

    /// Creates `body` in `collection`, or reads what someone else created at `path` meanwhile.
    func createOrGet(_ collection: ResourcePath, _ path: ResourcePath, _ body: JSONValue) async throws -> JSONValue {
        do {
            return try await client.create(collection, body: body)
        } catch {
            if error.code == .exists { return try await client.get(path) }
            throw error
        }
    }

    func getIfPresent(_ path: ResourcePath) async throws -> JSONValue? { try await client.getIfPresent(path) }

    func deleteIfPresent(_ path: ResourcePath) async throws { try await client.deleteIfPresent(path) }
}
