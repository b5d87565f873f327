import VirtAPI
import VirtReconcile

/// Resource amounts as the scheduler counts them: every resource in thousandths of its unit
/// (millicores for `cpu`, millibytes for `memory`, milli-devices for extended resources), so one integer
/// type covers them all.
public struct ResourceAmounts: Sendable, Equatable {
    /// Resource name → amount in thousandths.
    public var milli: [String: Int64]

    public init(_ milli: [String: Int64] = [:]) {
        self.milli = milli
    }

    /// The amounts of a `ResourceList`.
    public init(_ list: ResourceList?) {
        milli = (list ?? [:]).mapValues(\.milliValue)
    }

    /// The amount of one resource (0 when absent).
    public subscript(_ name: String) -> Int64 {
        get { milli[name, default: 0] }
        set { milli[name] = newValue }
    }

    /// Adds another set of amounts.
    public mutating func add(_ other: ResourceAmounts) {
        for (name, value) in other.milli { milli[name, default: 0] += value }
    }

    /// The element-wise maximum with another set.
    public mutating func formMax(_ other: ResourceAmounts) {
        for (name, value) in other.milli { milli[name] = max(milli[name, default: 0], value) }
    }
}

/// How much of a node a pod claims.
public enum PodResources {
    /// A pod's effective requests, as kube-scheduler computes them: the sum over its containers (a
    /// resource with a limit but no request requests its limit), the larger of that and any single init
    /// container, plus `spec.overhead`.
    public static func requests(of pod: Pod) -> ResourceAmounts {
        guard let spec = pod.spec else { return ResourceAmounts() }
        var total = ResourceAmounts()
        for container in spec.containers {
            total.add(containerRequests(container.resources))
        }
        for initContainer in spec.initContainers ?? [] {
            let resources = try? initContainer["resources"]?.decoded(as: ResourceRequirements.self)
            total.formMax(containerRequests(resources))
        }
        total.add(ResourceAmounts(spec.overhead))
        return total
    }

    static func containerRequests(_ resources: ResourceRequirements?) -> ResourceAmounts {
        var amounts = ResourceAmounts(resources?.limits)
        for (name, value) in ResourceAmounts(resources?.requests).milli { amounts[name] = value }
        return amounts
    }

    /// Whether a pod still holds its node's resources (bound and not finished).
    public static func occupiesNode(_ pod: Pod) -> Bool {
        guard let node = pod.spec?.nodeName, !node.isEmpty else { return false }
        let phase = pod.status?.phase
        return phase != "Succeeded" && phase != "Failed"
    }
}
