import VirtAPI
import VirtQEMU

/// Connects a VMI's interfaces to its networks for one launch and says what QEMU should open for each.
/// QEMU's user-mode stack for the pod network today; CNI plugins for Multus networks come through here.
public protocol NetworkAttacher: Sendable {
    /// The backend of each interface of `vmi` (by interface name), set up in the sandbox `sandboxID`.
    func attach(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> [String: LaunchContext.NetworkBackend]
    /// Undoes what `attach` set up for the sandbox (nothing is left when it never ran).
    func detach(sandboxID: String) async throws
}

/// The pod network through QEMU's user-mode stack (`-netdev user`): what the `masquerade` binding on the
/// pod network gives a guest here. Admission refuses every other binding and network, so no interface
/// reaches this attacher that it would run as something else.
public struct UserModeNetworking: NetworkAttacher {
    public init() {}

    public func attach(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> [String: LaunchContext.NetworkBackend] {
        var backends: [String: LaunchContext.NetworkBackend] = [:]
        for interface in vmi.spec.domain.devices.interfaces ?? [] { backends[interface.name] = .user }
        return backends
    }

    public func detach(sandboxID: String) async throws {}
}
