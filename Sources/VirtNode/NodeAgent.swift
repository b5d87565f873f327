import Logging
import ServiceLifecycle
import VirtClient
import VirtQEMU
import VirtReconcile

/// The node agent (KubeVirt's virt-handler and virt-launcher in one): registers the Node, keeps its Lease,
/// and runs the launcher pods bound to it.
public struct NodeAgent: Service {
    public struct Configuration: Sendable {
        public var nodeName: String
        public var forceEmulation: Bool
        public var podsDirectory: String
        public var containerDiskCache: String

        public init(nodeName: String, forceEmulation: Bool, podsDirectory: String, containerDiskCache: String) {
            self.nodeName = nodeName
            self.forceEmulation = forceEmulation
            self.podsDirectory = podsDirectory
            self.containerDiskCache = containerDiskCache
        }
    }

    let client: KubeClient
    let configuration: Configuration
    let logger: Logger

    public init(client: KubeClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let accelerator = await AcceleratorProbe().probe(forceEmulation: configuration.forceEmulation)
        logger.info("node \(configuration.nodeName): guests run with \(accelerator.accelerator.rawValue) (\(accelerator.reason))")
        let registration = NodeRegistration(
            client: client, configuration: .init(nodeName: configuration.nodeName, accelerator: accelerator), logger: logger)
        let pods = Informer(client: client, path: .core("pods"), kind: "Pod", fieldSelector: "spec.nodeName=\(configuration.nodeName)", logger: logger)
        let vmis = Informer(client: client, path: ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachineinstances"),
                            kind: "VirtualMachineInstance", fieldSelector: "status.nodeName=\(configuration.nodeName)", logger: logger)
        let queue = WorkQueue<ObjectKey>()
        let reconciler = VirtualMachinePodReconciler(
            client: client, pods: pods, vmis: vmis, queue: queue,
            configuration: .init(nodeName: configuration.nodeName, accelerator: accelerator.accelerator == .kvm ? .kvm : .tcg,
                                 podsDirectory: configuration.podsDirectory, containerDiskCache: configuration.containerDiskCache),
            logger: logger)
        pods.addHandler { event in
            if let key = event.key { await queue.add(key) }
        }
        let podCache = pods.cache
        vmis.addHandler { event in
            // A VMI's requests are carried out on its launcher pod.
            guard let uid = event.object[path: ["metadata", "uid"]]?.stringValue else { return }
            for pod in podCache.list(where: { $0[path: ["metadata", "labels", "kubevirt.io/created-by"]]?.stringValue == uid }) {
                if let key = ObjectKey(object: pod) { await queue.add(key) }
            }
        }
        let controller = Controller(name: "node-agent", reconciler: reconciler, queue: queue, informers: [pods, vmis], workers: 4, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await registration.run() }
            group.addTask { try await pods.run() }
            group.addTask { try await vmis.run() }
            group.addTask { try await controller.run() }
        }
    }
}
