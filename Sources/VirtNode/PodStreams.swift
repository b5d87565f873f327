import Foundation
import VirtError
import VirtOS
import VirtRuntime

/// What the node agent serves of its pods beyond their status: the guest's serial console and VNC
/// sockets, and commands run inside a pod. The API server reaches these for the pods of its own node.
public struct PodStreams: Sendable {
    /// The node whose pods these are.
    public let nodeName: String
    let sandbox: PodSandbox

    /// Socket file names in a launcher pod's state directory, where QEMU listens.
    static let qmpSocket = "qmp.sock"
    static let serialSocket = "serial.sock"
    static let serialLog = "serial.log"
    static let vncSocket = "vnc.sock"

    public init(nodeName: String, podsDirectory: String) {
        self.nodeName = nodeName
        self.sandbox = .node(podsDirectory: podsDirectory)
    }

    /// The serial console's (`vnc == false`) or VNC display's unix socket of launcher pod `namespace/pod`.
    public func socketPath(vnc: Bool, namespace: String, pod: String) throws -> String {
        let state = sandbox.bundle(for: PodSandboxSpec.containerID(namespace: namespace, name: pod)).statePath
        let path = state + "/" + (vnc ? Self.vncSocket : Self.serialSocket)
        guard FileManager.default.fileExists(atPath: path) else {
            throw VirtError(.serviceUnavailable, "pod \(namespace)/\(pod) has no \(vnc ? "VNC display" : "serial console") socket yet (\(path)); its QEMU may still be starting")
        }
        return path
    }

    /// Runs `command` in the pod's container to completion.
    public func exec(namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> CommandResult {
        let id = PodSandboxSpec.containerID(namespace: namespace, name: pod)
        guard try await sandbox.status(id) != nil else {
            throw VirtError(.serviceUnavailable, "pod \(namespace)/\(pod) has no running container on node \(nodeName)")
        }
        return try await sandbox.exec(id, command, options: .init(input: stdin))
    }
}

extension PodSandbox {
    /// The node agent's sandboxes: runc's state lives beside the pods, so two daemons on one machine
    /// (tests) never see each other's.
    static func node(podsDirectory: String) -> PodSandbox {
        PodSandbox(configuration: .init(podsDirectory: podsDirectory, cgroupParent: "/swiftvirt"),
                   runc: Runc(root: podsDirectory + "/.runc"))
    }
}
