import VirtAPI

/// A node as the scheduler sees it: the Node and what the pods already on it request.
public struct NodeInfo: Sendable {
    public var node: Node
    /// Sum of the requests of pods bound to the node (and pods assumed to be).
    public var requested: ResourceAmounts
    /// Pods bound to the node.
    public var podCount: Int

    public init(node: Node, requested: ResourceAmounts = ResourceAmounts(), podCount: Int = 0) {
        self.node = node
        self.requested = requested
        self.podCount = podCount
    }

    /// `metadata.name`.
    public var name: String { node.metadata?.name ?? "" }

    /// What pods may use: `status.allocatable`, else `status.capacity`.
    public var allocatable: ResourceAmounts {
        ResourceAmounts(node.status?.allocatable ?? node.status?.capacity)
    }
}
