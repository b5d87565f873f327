import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// Gives each Node its pod network: a `/nodeMaskSize` subnet of the cluster CIDR in `spec.podCIDR` and
/// `spec.podCIDRs`, as Kubernetes' node IPAM controller does. It is the only writer of those fields and
/// writes them once; a Node that already has one (set by whoever registered it) keeps it, and its subnet
/// is not given to another node. The node agent builds its pods' `eth0` addresses from it.
///
/// Keys are node names; the Node informer wakes them.
public struct NodeIPAMController: Reconciler {
    /// The cluster's pod address range and each node's share of it.
    public struct Configuration: Sendable, Equatable {
        /// Every pod address of the cluster lies in it (`--cluster-cidr`).
        public var clusterCIDR: IPv4CIDR
        /// The prefix length of each node's subnet (`--node-cidr-mask-size`).
        public var nodeMaskSize: Int

        public init(clusterCIDR: IPv4CIDR = Self.defaultClusterCIDR, nodeMaskSize: Int = 24) {
            self.clusterCIDR = clusterCIDR
            self.nodeMaskSize = nodeMaskSize
        }

        /// 10.244.0.0/16, the range most single-cluster installations use.
        public static let defaultClusterCIDR = IPv4CIDR(containing: IPv4Address(0x0af4_0000), prefixLength: 16)
    }

    let client: any APIClient
    let nodes: ObjectCache
    let configuration: Configuration
    let logger: Logger

    public init(client: any APIClient, nodes: ObjectCache, configuration: Configuration = Configuration(), logger: Logger) {
        self.client = client
        self.nodes = nodes
        self.configuration = configuration
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let node = nodes.get(ObjectKey(namespace: nil, name: key.name)), node.metadataDeletionTimestamp == nil else {
            return .done
        }
        if let existing = node[path: ["spec", "podCIDR"]]?.stringValue, !existing.isEmpty { return .done }
        guard let subnet = Self.freeSubnet(in: configuration, taken: takenSubnets(except: key.name)) else {
            throw TerminalError("no pod subnet left for node \(key.name): every /\(configuration.nodeMaskSize) of the cluster CIDR \(configuration.clusterCIDR) is taken; give the daemon a larger --cluster-cidr")
        }
        let cidr = subnet.description
        _ = try await client.patch(KubeVirt.nodes.named(key.name), mergePatch: ["spec": ["podCIDR": .string(cidr), "podCIDRs": [.string(cidr)]]])
        logger.info("node \(key.name): pod CIDR \(cidr)")
        return .done
    }

    /// The pod subnets of every other node (those that parse; a foreign one outside the range counts too,
    /// since it may still overlap).
    func takenSubnets(except name: String) -> [IPv4CIDR] {
        nodes.list().compactMap { node -> IPv4CIDR? in
            guard node.metadataName != name, let text = node[path: ["spec", "podCIDR"]]?.stringValue else { return nil }
            return try? IPv4CIDR(parsing: text)
        }
    }

    /// The first subnet of the configured size that overlaps none of `taken`.
    static func freeSubnet(in configuration: Configuration, taken: [IPv4CIDR]) -> IPv4CIDR? {
        var index = 0
        while let subnet = configuration.clusterCIDR.subnet(index, prefixLength: configuration.nodeMaskSize) {
            if !taken.contains(where: { $0.overlaps(subnet) }) { return subnet }
            index += 1
        }
        return nil
    }
}
