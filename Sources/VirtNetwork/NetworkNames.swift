import VirtAPI

/// Names the node's networking gives to what it creates, in one place.
public enum NetworkNames {
    /// The node's bridge that every launcher pod's `eth0` hangs on.
    public static let podBridge = "swiftvirt0"
    /// The name of the pod network's CNI configuration list (the `name` every plugin of it receives).
    public static let podNetwork = "swiftvirt-pod-network"
    /// The pod's interface on the pod network.
    public static let podInterface = "eth0"
    /// Multus' interface name for the `index`-th (from 1) secondary network of a pod: net1, net2 …
    public static func secondaryInterface(_ index: Int) -> String { MultusNetworkSelection.interfaceName(index) }
    /// The in-pod bridge that joins a VM's tap to the pod interface `podInterface` (k6t-eth0, k6t-net1 …).
    public static func inPodBridge(for podInterface: String) -> String { "k6t-\(podInterface)" }
}
