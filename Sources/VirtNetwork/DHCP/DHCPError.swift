/// Why a `DHCPResponder` cannot serve a lease.
public enum DHCPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The lease (or the VMI's `dhcpOptions` it came from) cannot be handed out as it is.
    case invalidLease(String)
    /// The network namespace file does not exist.
    case namespaceMissing(path: String)
    /// The file exists but could not be opened or entered as a network namespace.
    case namespaceUnusable(path: String, reason: String)
    /// The device to bind to is not in the namespace.
    case deviceMissing(device: String, namespacePath: String)
    /// Making, configuring or binding the socket failed for another reason.
    case socketFailed(step: String, device: String, namespacePath: String, reason: String)
    /// The thread could not return to the node agent's own network namespace.
    case restoreFailed(reason: String)
    /// The responder was already stopped.
    case stopped

    public var description: String {
        switch self {
        case .invalidLease(let reason):
            "the DHCP lease cannot be served: \(reason)"
        case .namespaceMissing(let path):
            "the network namespace \(path) does not exist: the pod's sandbox is gone or was never set up"
        case .namespaceUnusable(let path, let reason):
            "cannot enter the network namespace \(path): \(reason); check that it is a network namespace mount and that the agent runs as root"
        case .deviceMissing(let device, let path):
            "there is no device \(device) in the network namespace \(path): the pod's wiring did not create it, or it was removed"
        case .socketFailed(let step, let device, let path, let reason):
            "cannot open the DHCP socket on \(device) in \(path): \(step) failed: \(reason)"
        case .restoreFailed(let reason):
            "the DHCP socket thread could not return to the agent's network namespace: \(reason)"
        case .stopped:
            "the DHCP responder is stopped"
        }
    }
}
