import Foundation
import VirtError
import VirtOS
import VirtRuntime

/// What the node agent serves of its pods beyond their status: the guest's serial console and VNC
/// sockets, and commands run inside a pod, which its HTTPS endpoint serves to the API server.
public struct PodStreams: Sendable {
    /// The node whose pods these are.
    public let nodeName: String
    let runtime: any PodRuntime

    public init(nodeName: String, runtime: any PodRuntime) {
        self.nodeName = nodeName
        self.runtime = runtime
    }

    /// The serial console's (`vnc == false`) or VNC display's unix socket of launcher pod `namespace/pod`.
    public func socketPath(vnc: Bool, namespace: String, pod: String) throws -> String {
        let state = runtime.stateDirectory(of: PodSandboxSpec.containerID(namespace: namespace, name: pod))
        let path = state + "/" + (vnc ? VirtualMachineHandler.PodFiles.vncSocket : VirtualMachineHandler.PodFiles.serialSocket)
        guard FileManager.default.fileExists(atPath: path) else {
            throw VirtError(.serviceUnavailable, "pod \(namespace)/\(pod) has no \(vnc ? "VNC display" : "serial console") socket yet (\(path)); its QEMU may still be starting")
        }
        return path
    }

    /// Runs `command` in the pod's container to completion.
    public func exec(namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> CommandResult {
        let id = PodSandboxSpec.containerID(namespace: namespace, name: pod)
        guard try await runtime.status(id) != nil else {
            throw VirtError(.serviceUnavailable, "pod \(namespace)/\(pod) has no running container on node \(nodeName)")
        }
        return try await runtime.exec(id, command, input: stdin)
    }
}
