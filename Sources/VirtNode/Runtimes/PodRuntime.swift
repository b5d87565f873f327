import Foundation
import VirtOS
import VirtRuntime

/// What runs launcher pods' sandboxes on this node: runc today (``RuncPodRuntime``), the kubelet's
/// runtime when the agent runs beside Kubernetes. The node agent reaches sandboxes only through this,
/// so its unit tests drive it with a fake.
public protocol PodRuntime: Sendable {
    /// The directory, as the host sees it, where the sandbox `id` keeps its state: QEMU's sockets and
    /// logs, prepared disks. The same path inside the sandbox.
    func stateDirectory(of id: String) -> String
    /// The sandbox's state, `nil` when there is none.
    func status(_ id: String) async throws -> ContainerState?
    /// Creates the sandbox from `spec` and starts its process; returns once the process runs.
    func start(_ spec: PodSandboxSpec) async throws
    /// Stops the sandbox's process (SIGTERM, up to `grace`, then SIGKILL) and removes the sandbox. A
    /// sandbox that does not exist only has what is left of it removed.
    func stop(_ id: String, grace: Duration) async throws
    /// Runs a program inside the sandbox to completion.
    func exec(_ id: String, _ arguments: [String], input: [UInt8]?) async throws -> CommandResult
    /// The last lines the sandbox's process wrote to its standard error ("" when none).
    func errorOutput(of id: String) -> String
}

/// Launcher pods as runc containers under the agent's pods directory (its own runc root, so two agents on
/// one machine never see each other's containers).
public struct RuncPodRuntime: PodRuntime {
    let sandbox: PodSandbox

    public init(podsDirectory: String) {
        self.sandbox = PodSandbox(configuration: .init(podsDirectory: podsDirectory, cgroupParent: "/swiftvirt"),
                                  runc: Runc(root: podsDirectory + "/.runc"))
    }

    public func stateDirectory(of id: String) -> String { sandbox.bundle(for: id).statePath }

    public func status(_ id: String) async throws -> ContainerState? { try await sandbox.status(id) }

    public func start(_ spec: PodSandboxSpec) async throws {
        try sandbox.prepare(spec)
        try await sandbox.start(spec.id)
    }

    public func stop(_ id: String, grace: Duration) async throws {
        guard try await sandbox.status(id) != nil || FileManager.default.fileExists(atPath: sandbox.bundle(for: id).path) else { return }
        try await sandbox.stop(id, options: .init(grace: grace, killTimeout: .seconds(10)))
    }

    public func exec(_ id: String, _ arguments: [String], input: [UInt8]?) async throws -> CommandResult {
        try await sandbox.exec(id, arguments, options: .init(input: input))
    }

    public func errorOutput(of id: String) -> String {
        guard let data = FileManager.default.contents(atPath: sandbox.bundle(for: id).stderrPath) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(5).joined(separator: " | ")
    }
}
