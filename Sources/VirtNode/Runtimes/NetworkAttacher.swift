import VirtAPI
import VirtError
import VirtQEMU

/// What a launch's networks came to: the network namespace the sandbox joins, what QEMU opens for each
/// interface, and the pod's addresses.
public struct NetworkAttachment: Sendable, Equatable {
    /// The namespace made and wired for the sandbox; nil: the sandbox gets a new, empty one.
    public var namespacePath: String?
    /// Interface name → what QEMU opens for it (an interface missing here uses QEMU's user-mode stack).
    public var backends: [String: LaunchContext.NetworkBackend]
    /// The pod's addresses on the pod network (`status.podIP(s)`).
    public var podIPs: [String]
    /// Interface name → where it landed, for `status.interfaces` (an interface missing here is reported
    /// from the domain alone).
    public var interfaces: [String: AttachedInterface]
    /// The value of the pod's `k8s.v1.cni.cncf.io/network-status` annotation; nil: none is written.
    public var networkStatus: String?

    public init(namespacePath: String? = nil, backends: [String: LaunchContext.NetworkBackend] = [:], podIPs: [String] = [],
                interfaces: [String: AttachedInterface] = [:], networkStatus: String? = nil) {
        self.namespacePath = namespacePath
        self.backends = backends
        self.podIPs = podIPs
        self.interfaces = interfaces
        self.networkStatus = networkStatus
    }
}

/// Where one VM interface landed: the pod interface behind it, the guest's MAC and the addresses it has.
public struct AttachedInterface: Sendable, Equatable {
    /// eth0, net1 …
    public var podInterfaceName: String
    public var mac: String
    /// The guest's addresses on the network as the network gave them (the pod's, behind masquerade).
    public var ipAddresses: [String]

    public init(podInterfaceName: String, mac: String, ipAddresses: [String] = []) {
        self.podInterfaceName = podInterfaceName
        self.mac = mac
        self.ipAddresses = ipAddresses
    }
}

/// Connects a VMI's interfaces to its networks for one launch and says what QEMU should open for each:
/// CNI plugins into a network namespace of the pod's own (``PodNetworkAttacher``), or QEMU's user-mode
/// stack (``UserModeNetworking``).
public protocol NetworkAttacher: Sendable {
    /// Sets up the networks of `vmi` for the sandbox `sandboxID`; on failure nothing is left.
    func attach(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> NetworkAttachment
    /// Undoes what `attach` set up for the sandbox (nothing is left when it never ran).
    func detach(sandboxID: String) async throws
    /// Takes a sandbox that runs already (a guest adopted after an agent restart) back into service: what
    /// lived in the agent rather than in the sandbox is set up again.
    func resume(_ vmi: VirtualMachineInstance, sandboxID: String) async throws
    /// Undoes what is left of sandboxes that no longer run (an agent that stopped or died meanwhile).
    func sweep(isRunning: @Sendable (String) async -> Bool) async
}

extension NetworkAttacher {
    public func resume(_ vmi: VirtualMachineInstance, sandboxID: String) async throws {}
    public func sweep(isRunning: @Sendable (String) async -> Bool) async {}
}

/// The pod network through QEMU's user-mode stack (`-netdev user`): NAT with nothing set up on the host,
/// for unit tests and hosts without the CNI plugins.
public struct UserModeNetworking: NetworkAttacher {
    public init() {}

    public func attach(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> NetworkAttachment {
        try Self.refuseWhatNeedsThePodNetwork(vmi)
        var attachment = NetworkAttachment()
        for interface in vmi.spec.domain.devices.interfaces ?? [] { attachment.backends[interface.name] = .user }
        return attachment
    }

    /// What QEMU's user-mode stack cannot do: take connections in, hand out another guest network or
    /// other DHCP options, put the guest on a network of its own (bridge, Multus). Refused by name, so the VMI waits with a reason rather than runs without it.
    static func refuseWhatNeedsThePodNetwork(_ vmi: VirtualMachineInstance) throws {
        var fields: [String] = []
        for (i, interface) in (vmi.spec.domain.devices.interfaces ?? []).enumerated() {
            if !(interface.ports ?? []).isEmpty { fields.append("spec.domain.devices.interfaces[\(i)].ports") }
            if let options = interface.dhcpOptions, !options.isNull { fields.append("spec.domain.devices.interfaces[\(i)].dhcpOptions") }
        }
        for (i, interface) in (vmi.spec.domain.devices.interfaces ?? []).enumerated() where interface.bridge != nil {
            fields.append("spec.domain.devices.interfaces[\(i)].bridge")
        }
        for (i, network) in (vmi.spec.networks ?? []).enumerated() {
            if !(network.pod?.vmNetworkCIDR ?? "").isEmpty { fields.append("spec.networks[\(i)].pod.vmNetworkCIDR") }
            if network.multus != nil { fields.append("spec.networks[\(i)].multus") }
        }
        guard !fields.isEmpty else { return }
        throw VirtError(.invalid, "\(fields.joined(separator: ", ")) need the pod network through CNI, and this node runs QEMU's user-mode NAT (swiftvirtd --pod-network user); run the node with --pod-network cni, or remove them")
    }

    public func detach(sandboxID: String) async throws {}
}
