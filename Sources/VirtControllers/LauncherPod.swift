import VirtAPI
import VirtError

/// The launcher pod of a VirtualMachineInstance, as KubeVirt's template service renders it: the sandbox
/// the node agent starts QEMU in. A pure function of the VMI and the controller's options.
///
/// Shape:
/// - name `virt-launcher-<vmi>-<suffix>`, where the 5-character suffix is derived from the VMI's UID, so
///   a controller that retries after a lost response (or runs twice) finds the pod it already created
///   instead of making a second one;
/// - labels: the VMI's, plus `kubevirt.io: virt-launcher`, `kubevirt.io/created-by: <vmi uid>`,
///   `vm.kubevirt.io/name: <vmi name>`; annotations `kubevirt.io/domain: <vmi name>` and
///   `kubectl.kubernetes.io/default-container: compute`; the VMI's multus networks as Multus'
///   `k8s.v1.cni.cncf.io/networks` (``MultusNetworkSelection``, net1, net2 …) and a default multus network
///   as `v1.multus-cni.io/default-network`;
/// - owned by the VMI (`controller: true`, `blockOwnerDeletion: true`), so the server's garbage collector
///   deletes it with the VMI;
/// - one container `compute` whose requests are the guest's memory plus ``LauncherOverhead`` and the
///   VMI's CPU (or vCPUs ÷ `cpuAllocationRatio`), limits when the VMI sets them, and the devices
///   `devices.kubevirt.io/kvm` (unless emulating) and `devices.kubevirt.io/tun`;
/// - the VMI's nodeSelector (plus `kubevirt.io/schedulable: "true"`), affinity, tolerations,
///   schedulerName, priorityClassName, DNS settings and `terminationGracePeriodSeconds` (default 30).
public enum LauncherPod {
    /// What the VMI controller decides for every launcher pod.
    public struct Options: Sendable, Equatable {
        /// Ask for `devices.kubevirt.io/kvm: 1` (false under emulation).
        public var requestKVM: Bool
        /// Add `kubevirt.io/schedulable: "true"` to the node selector, as KubeVirt does.
        public var requireSchedulableNodeLabel: Bool
        /// vCPUs per requested CPU when the VMI requests no CPU (KubeVirt's default 10: a 1-vCPU VM
        /// requests 100m).
        public var cpuAllocationRatio: Int
        /// The `compute` container's image, if any (the node agent runs QEMU from the host).
        public var image: String?

        public init(requestKVM: Bool = true, requireSchedulableNodeLabel: Bool = true, cpuAllocationRatio: Int = 10, image: String? = nil) {
            self.requestKVM = requestKVM
            self.requireSchedulableNodeLabel = requireSchedulableNodeLabel
            self.cpuAllocationRatio = cpuAllocationRatio
            self.image = image
        }
    }

    /// The one container's name.
    public static let containerName = "compute"
    /// KubeVirt's default `terminationGracePeriodSeconds` for VMIs.
    public static let defaultGracePeriodSeconds: Int64 = 30
    /// Kubernetes' alphabet for generated name suffixes (no vowels, no look-alikes).
    static let suffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// `virt-launcher-<vmi>-<suffix>`.
    public static func name(vmiName: String, uid: String) -> String {
        "virt-launcher-\(vmiName)-\(suffix(uid: uid))"
    }

    /// Five lowercase alphanumerics from the FNV-1a hash of the VMI's UID.
    public static func suffix(uid: String) -> String {
        var hash = FNV1a.hash64(uid)
        var text = ""
        for _ in 0..<5 {
            text.append(suffixAlphabet[Int(hash % UInt64(suffixAlphabet.count))])
            hash /= UInt64(suffixAlphabet.count)
        }
        return text
    }

    /// Virtual CPUs: sockets × cores × threads (each defaulting to 1).
    public static func vcpus(_ cpu: CPU?) -> Int {
        let sockets = Int(cpu?.sockets ?? 1)
        let cores = Int(cpu?.cores ?? 1)
        let threads = Int(cpu?.threads ?? 1)
        return max(1, sockets) * max(1, cores) * max(1, threads)
    }

    /// The guest's RAM in bytes: `memory.guest`, else the memory request, else the memory limit.
    public static func guestMemory(_ domain: DomainSpec) -> Int64? {
        if let guest = domain.memory?.guest { return guest.bytes }
        if let request = domain.resources?.requests?["memory"] { return request.bytes }
        return domain.resources?.limits?["memory"]?.bytes
    }

    /// The `compute` container's resources.
    ///
    /// - Throws: `VirtError.invalid` when the VMI says nothing about its memory.
    public static func resources(for spec: VirtualMachineInstanceSpec, options: Options) throws(VirtError) -> ResourceRequirements {
        let domain = spec.domain
        guard let guest = guestMemory(domain) else {
            throw VirtError(.invalid, "spec.domain.memory.guest or spec.domain.resources.requests.memory is required to size the launcher pod")
        }
        let vcpus = vcpus(domain.cpu)
        let graphics = domain.devices.autoattachGraphicsDevice ?? true
        let overhead = LauncherOverhead.memory(guestMemory: guest, vcpus: vcpus, graphics: graphics, emulation: !options.requestKVM)
        let addOverhead = domain.resources?.overcommitGuestOverhead != true

        var requests: ResourceList = domain.resources?.requests ?? [:]
        var limits: ResourceList = domain.resources?.limits ?? [:]

        let memoryRequest = domain.resources?.requests?["memory"]?.bytes ?? guest
        requests["memory"] = Quantity(bytes: memoryRequest + (addOverhead ? overhead : 0))
        if let memoryLimit = domain.resources?.limits?["memory"] {
            limits["memory"] = Quantity(bytes: memoryLimit.bytes + overhead)
        }
        if requests["cpu"] == nil {
            if let cpuLimit = limits["cpu"] {
                requests["cpu"] = cpuLimit
            } else {
                let ratio = Int64(max(1, options.cpuAllocationRatio))
                requests["cpu"] = Quantity(milliValue: max(1, Int64(vcpus) * 1000 / ratio))
            }
        }
        let one = Quantity(milliValue: 1000)
        if options.requestKVM {
            requests[KubeVirt.kvmResource] = one
            limits[KubeVirt.kvmResource] = one
        }
        requests[KubeVirt.tunResource] = one
        limits[KubeVirt.tunResource] = one
        return ResourceRequirements(requests: requests, limits: limits.isEmpty ? nil : limits)
    }

    /// The pod for a VMI (which must carry `metadata.name`, `namespace` and `uid`).
    public static func build(for vmi: VirtualMachineInstance, options: Options) throws(VirtError) -> Pod {
        guard let name = vmi.metadata?.name, let uid = vmi.metadata?.uid else {
            throw VirtError(.invalid, "a VirtualMachineInstance needs metadata.name and metadata.uid before its pod can be built")
        }
        let spec = vmi.spec

        var metadata = ObjectMeta(name: Self.name(vmiName: name, uid: uid), namespace: vmi.metadata?.namespace)
        var labels = vmi.metadata?.labels ?? [:]
        labels[KubeVirt.appLabel] = "virt-launcher"
        labels[KubeVirt.createdByLabel] = uid
        labels[KubeVirt.vmNameLabel] = name
        metadata.labels = labels
        metadata.annotations = [
            KubeVirt.domainAnnotation: name,
            KubeVirt.defaultContainerAnnotation: containerName,
        ]
        let namespace = vmi.metadata?.namespace ?? "default"
        let selections = MultusNetworkSelection.selections(of: spec, namespace: namespace)
        if !selections.isEmpty {
            metadata.annotations?[MultusNetworkSelection.annotation] = MultusNetworkSelection.annotationValue(selections)
        }
        if let defaultNetwork = MultusNetworkSelection.defaultNetwork(of: spec, namespace: namespace) {
            metadata.annotations?[MultusNetworkSelection.defaultNetworkAnnotation] = defaultNetwork
        }
        metadata.ownerReferences = [
            OwnerReference(apiVersion: KubeVirt.apiVersion, kind: "VirtualMachineInstance", name: name, uid: uid,
                           controller: true, blockOwnerDeletion: true),
        ]

        var container = Container(name: containerName, image: options.image)
        container.resources = try resources(for: spec, options: options)
        container.ports = containerPorts(spec)

        var podSpec = PodSpec(containers: [container])
        podSpec.restartPolicy = "Never"
        podSpec.terminationGracePeriodSeconds = spec.terminationGracePeriodSeconds ?? defaultGracePeriodSeconds
        var selector = spec.nodeSelector ?? [:]
        if options.requireSchedulableNodeLabel { selector[KubeVirt.schedulableLabel] = "true" }
        podSpec.nodeSelector = selector.isEmpty ? nil : selector
        podSpec.affinity = spec.affinity
        podSpec.tolerations = spec.tolerations
        podSpec.topologySpreadConstraints = spec.topologySpreadConstraints
        podSpec.schedulerName = spec.schedulerName
        podSpec.priorityClassName = spec.priorityClassName
        podSpec.hostname = hostname(spec.hostname ?? name)
        podSpec.subdomain = spec.subdomain
        podSpec.dnsPolicy = spec.dnsPolicy
        podSpec.dnsConfig = spec.dnsConfig
        podSpec.serviceAccountName = spec.serviceAccountName
        // The VMI's claims as the pod's volumes: the scheduler places the pod by them, and a claim a pod
        // uses is protected from removal until the pod is gone. A dataVolume volume is its DataVolume's PVC.
        let claims: [JSONValue] = (vmi.resolvingDataVolumes().spec.volumes ?? []).compactMap { volume in
            guard let claim = volume.persistentVolumeClaim?.claimName, !claim.isEmpty else { return nil }
            var source: JSONValue = ["claimName": .string(claim)]
            if volume.persistentVolumeClaim?.readOnly == true { source["readOnly"] = true }
            return ["name": .string(volume.name), "persistentVolumeClaim": source]
        }
        podSpec.volumes = claims.isEmpty ? nil : claims

        var pod = Pod(metadata: metadata, spec: podSpec)
        pod.status = nil
        return pod
    }

    /// The `compute` container's ports: each interface's `ports` (name, protocol, port), so a Service's
    /// named `targetPort` finds its number on the pod as it would on any pod.
    static func containerPorts(_ spec: VirtualMachineInstanceSpec) -> [JSONValue]? {
        var ports: [JSONValue] = []
        for interface in spec.domain.devices.interfaces ?? [] {
            for entry in interface.ports ?? [] {
                guard let number = entry["port"]?.intValue else { continue }
                var port: JSONValue = ["containerPort": .int(number), "protocol": .string(entry["protocol"]?.stringValue ?? Interface.defaultPortProtocol)]
                if let name = entry["name"]?.stringValue, !name.isEmpty { port["name"] = .string(name) }
                ports.append(port)
            }
        }
        return ports.isEmpty ? nil : ports
    }

    /// A DNS label from a name: dots become dashes, at most 63 characters, no dash at either end.
    static func hostname(_ name: String) -> String {
        var text = String(name.lowercased().map { $0 == "." || $0 == "_" ? "-" : $0 }.prefix(63))
        while text.hasSuffix("-") { text.removeLast() }
        while text.hasPrefix("-") { text.removeFirst() }
        return text
    }
}
