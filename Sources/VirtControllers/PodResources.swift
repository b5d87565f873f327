import VirtAPI
import VirtReconcile

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
