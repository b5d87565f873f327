/// The secondary networks a launcher pod asks Multus for: one selection per `multus` network of the VMI
/// (the default one excepted), in `spec.networks` order, each with the pod interface it becomes (net1,
/// net2 …). The launcher pod carries them as the JSON list in `k8s.v1.cni.cncf.io/networks`; the node
/// agent reads them back from there.
public struct MultusNetworkSelection: Sendable, Equatable {
    /// The NetworkAttachmentDefinition's name and namespace.
    public var name: String
    public var namespace: String
    /// The interface's name inside the pod.
    public var interface: String
    /// The VMI network it is for (`spec.networks[].name`).
    public var network: String

    public init(name: String, namespace: String, interface: String, network: String) {
        self.name = name
        self.namespace = namespace
        self.interface = interface
        self.network = network
    }

    /// `k8s.v1.cni.cncf.io/networks`: the pod annotation listing the selections.
    public static let annotation = "k8s.v1.cni.cncf.io/networks"
    /// `k8s.v1.cni.cncf.io/network-status`: the pod annotation reporting what each network gave the pod.
    public static let statusAnnotation = "k8s.v1.cni.cncf.io/network-status"
    /// `v1.multus-cni.io/default-network`: a pod's default network when it is not the cluster's.
    public static let defaultNetworkAnnotation = "v1.multus-cni.io/default-network"

    /// The selections of `spec`'s multus networks; `namespace` is the VMI's, for names given without one.
    public static func selections(of spec: VirtualMachineInstanceSpec, namespace: String) -> [MultusNetworkSelection] {
        var found: [MultusNetworkSelection] = []
        for network in spec.networks ?? [] {
            guard let multus = network.multus, multus.default != true, let reference = multus.networkName, !reference.isEmpty else { continue }
            let (nadNamespace, nadName) = split(reference, namespace: namespace)
            found.append(MultusNetworkSelection(name: nadName, namespace: nadNamespace, interface: interfaceName(found.count + 1), network: network.name))
        }
        return found
    }

    /// Multus' interface name for the `index`-th (from 1) secondary network of a pod: net1, net2 …
    public static func interfaceName(_ index: Int) -> String { "net\(index)" }

    /// `namespace/name` or `name` (in `namespace`).
    public static func split(_ reference: String, namespace: String) -> (namespace: String, name: String) {
        guard let slash = reference.firstIndex(of: "/") else { return (namespace, reference) }
        return (String(reference[..<slash]), String(reference[reference.index(after: slash)...]))
    }

    /// The annotation's value: `[{"name":…,"namespace":…,"interface":…}]`, as Multus reads it.
    public static func annotationValue(_ selections: [MultusNetworkSelection]) -> String {
        JSONValue.array(selections.map { selection -> JSONValue in
            ["name": .string(selection.name), "namespace": .string(selection.namespace), "interface": .string(selection.interface)]
        }).serialized()
    }

    /// The default network's annotation value (`namespace/name`), when a multus network is the default.
    public static func defaultNetwork(of spec: VirtualMachineInstanceSpec, namespace: String) -> String? {
        guard let reference = (spec.networks ?? []).first(where: { $0.multus?.default == true })?.multus?.networkName, !reference.isEmpty else {
            return nil
        }
        let (nadNamespace, nadName) = split(reference, namespace: namespace)
        return "\(nadNamespace)/\(nadName)"
    }
}
