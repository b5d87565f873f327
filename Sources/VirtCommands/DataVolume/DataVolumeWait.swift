import ArgumentParser
import Foundation
import Synchronization
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt dv …`: DataVolume verbs.
public struct DataVolumeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dv", abstract: "Work with CDI DataVolumes.", subcommands: [DataVolumeWait.self])
    public init() {}
}

/// `swiftvirt dv wait NAME [--for PHASE] [--timeout 10m]`: follows a DataVolume's import until it reaches
/// the phase (`Succeeded` by default), showing `status.progress` and the phase as a progress bar on a
/// terminal and as one line per change otherwise. Exits 0 at the phase; exits 1 with the `Running`
/// condition's message when the import fails, when the DataVolume goes away, or at the timeout.
public struct DataVolumeWait: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "wait", abstract: "Wait for a DataVolume's import, showing its progress.")

    /// The phases one may wait for.
    static let phases = ["Pending", "WaitForFirstConsumer", "PVCBound", "ImportScheduled", "ImportInProgress", "Succeeded"]

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The DataVolume's name.") public var name: String
    @Option(name: .customLong("for"), help: "The phase to wait for (Succeeded, WaitForFirstConsumer, PVCBound, ImportInProgress, …).")
    public var phase = "Succeeded"
    @Option(help: "How long to wait (30s, 10m, 1h).") public var timeout = "10m"

    public init() {}

    public func validate() throws {
        guard Self.phases.contains(phase) else {
            throw ValidationError("--for \(phase): not a phase one can wait for; use one of \(Self.phases.joined(separator: ", "))")
        }
        _ = try GoDuration.seconds(timeout)
    }

    public func run() async throws {
        let seconds = try GoDuration.seconds(timeout)
        try await CommandContext.with(global) { context in
            let path = ResourcePath(group: "cdi.kubevirt.io", version: "v1beta1", resource: "datavolumes", namespace: context.namespace, name: name)
            let follower = DataVolumeFollower(name: name, target: phase)
            let outcome = try await withThrowingTaskGroup(of: DataVolumeFollower.Outcome.self) { group in
                group.addTask { try await follower.follow(context.client, path) }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    return .timedOut
                }
                let first = try await group.next() ?? .timedOut
                group.cancelAll()
                return first
            }
            switch outcome {
            case .reached(let last):
                follower.finish(last)
            case .failed(let last):
                follower.finish(last)
                throw VirtError(.invalidState, "DataVolume \(name) failed: \(DataVolumeFollower.runningMessage(last) ?? "no reason given")")
            case .timedOut:
                let last = try? await context.client.get(path)
                if let last { follower.finish(last) }
                let where_ = last.map { " (phase \(DataVolumeFollower.phase($0) ?? "none"), progress \(DataVolumeFollower.progress($0) ?? "N/A"))" } ?? ""
                let why = last.flatMap(DataVolumeFollower.runningMessage).map { ": \($0)" } ?? ""
                throw VirtError(.timeout, "timed out after \(timeout) waiting for DataVolume \(name) to reach \(phase)\(where_)\(why)")
            }
        }
    }
}

/// Follows one DataVolume through a watch (resumed when the server ends it) and draws its progress.
final class DataVolumeFollower: Sendable {
    enum Outcome: Sendable {
        case reached(JSONValue)
        case failed(JSONValue)
        case timedOut
    }

    let name: String
    let target: String
    private let bar = Mutex(ProgressBar())

    init(name: String, target: String) {
        self.name = name
        self.target = target
    }

    static func phase(_ object: JSONValue) -> String? { object[path: ["status", "phase"]]?.stringValue }
    static func progress(_ object: JSONValue) -> String? { object[path: ["status", "progress"]]?.stringValue }

    /// The `Running` condition's message, else the `Bound` condition's (why no claim was made).
    static func runningMessage(_ object: JSONValue) -> String? {
        let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
        for type in ["Running", "Bound"] {
            if let message = conditions.first(where: { $0["type"]?.stringValue == type })?["message"]?.stringValue, !message.isEmpty {
                return message
            }
        }
        return nil
    }

    /// Where `object` stands: reached, failed, or still going (`nil`).
    func outcome(_ object: JSONValue) -> Outcome? {
        let phase = Self.phase(object)
        if phase == target || (phase == "Succeeded" && target != "Succeeded" && Self.order(target) < Self.order("Succeeded")) {
            return .reached(object)
        }
        if phase == "Failed" { return .failed(object) }
        return nil
    }

    /// The rank of a phase on the way to `Succeeded`, so waiting for an earlier phase ends at a later one.
    static func order(_ phase: String) -> Int { DataVolumeWait.phases.firstIndex(of: phase) ?? 0 }

    func draw(_ object: JSONValue) {
        let phase = Self.phase(object) ?? "Pending"
        bar.withLock { $0.update(fraction: ProgressBar.fraction(fromPercent: Self.progress(object)), status: phase) }
    }

    /// Draws the last state and ends the bar's line.
    func finish(_ object: JSONValue) {
        let phase = Self.phase(object) ?? "Pending"
        bar.withLock { $0.finish(fraction: ProgressBar.fraction(fromPercent: Self.progress(object)), status: phase) }
    }

    /// Reads the DataVolume, then watches it until it reaches the target or fails; a watch the server
    /// ends is started again from the last version seen.
    func follow(_ client: KubeClient, _ path: ResourcePath) async throws -> Outcome {
        while true {
            let object = try await client.get(path)
            draw(object)
            if let done = outcome(object) { return done }
            let events = client.watch(path, resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue)
            for try await event in events {
                switch event.type {
                case .added, .modified:
                    draw(event.object)
                    if let done = outcome(event.object) { return done }
                case .deleted:
                    throw VirtError(.notFound, "DataVolume \(name) was deleted while waiting for it")
                case .bookmark, .error:
                    continue
                }
            }
            try Task.checkCancellation()
        }
    }
}
