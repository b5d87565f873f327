import VirtAPI
import VirtError

extension PodSandboxSpec {
    /// The runc container id of a pod: `NAMESPACE_NAME`. Kubernetes names never contain `_`, so the id
    /// is unambiguous, and it is a valid runc id.
    public static func containerID(namespace: String, name: String) -> String {
        "\(namespace)_\(name)"
    }

    /// The sandbox for a pod bound to this node, running `process`.
    ///
    /// Identity, hostname and cgroup limits come from the pod; the process, network namespace, mounts
    /// and devices are the agent's choice (QEMU's command line, the CNI netns, the VM's disks).
    public init(pod: Pod, process: Process, networkNamespace: NetworkNamespace = .new, mounts: [BindMount] = [],
                devices: [String] = PodSandboxSpec.defaultDevices, capabilities: [String] = PodSandboxSpec.defaultCapabilities) throws {
        guard let name = pod.metadata?.name, !name.isEmpty else {
            throw VirtError(.invalid, "a pod needs metadata.name to get a sandbox")
        }
        let namespace = pod.metadata?.namespace ?? "default"
        var annotations = [Self.podNameAnnotation: name, Self.podNamespaceAnnotation: namespace]
        if let uid = pod.metadata?.uid { annotations[Self.podUIDAnnotation] = uid }
        self.init(id: Self.containerID(namespace: namespace, name: name),
                  hostname: Self.hostname(for: pod),
                  process: process,
                  resources: Resources(pod: pod),
                  networkNamespace: networkNamespace,
                  mounts: mounts,
                  devices: devices,
                  capabilities: capabilities,
                  annotations: annotations)
    }

    /// `spec.hostname`, else the pod's name, cut to 63 bytes without a trailing `-` or `.` (as the
    /// kubelet does: a Linux hostname holds at most 64).
    public static func hostname(for pod: Pod) -> String {
        let wanted = pod.spec?.hostname ?? pod.metadata?.name ?? "pod"
        var name = String(wanted.prefix(63))
        while name.hasSuffix("-") || name.hasSuffix(".") { name.removeLast() }
        return name.isEmpty ? "pod" : name
    }
}

extension PodSandboxSpec.Resources {
    /// A pod's cgroup limits, the way the kubelet sizes a pod's cgroup: pod-level `spec.resources` when
    /// set, else the sum over its containers. A limit applies only when every container has one (one
    /// unlimited container makes the pod unlimited); CPU requests become a relative weight.
    public init(pod: Pod) {
        let containers = pod.spec?.containers ?? []
        func limit(_ resource: String, _ value: (Quantity) -> Int64) -> Int64? {
            if let quantity = pod.spec?.resources?.limits?[resource] { return value(quantity) }
            let limits = containers.map { $0.resources?.limits?[resource] }
            guard !limits.isEmpty, limits.allSatisfy({ $0 != nil }) else { return nil }
            return limits.compactMap { $0.map(value) }.reduce(0, +)
        }
        func request(_ resource: String, _ value: (Quantity) -> Int64) -> Int64? {
            if let quantity = pod.spec?.resources?.requests?[resource] { return value(quantity) }
            // A container with a limit and no request requests its limit.
            let requests = containers.compactMap { $0.resources?.requests?[resource] ?? $0.resources?.limits?[resource] }
            return requests.isEmpty ? nil : requests.map(value).reduce(0, +)
        }
        self.init(memoryLimitBytes: limit("memory", \.bytes),
                  cpuLimitMillicores: limit("cpu", \.milliValue),
                  cpuRequestMillicores: request("cpu", \.milliValue))
    }
}
