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
        let queue = WorkQueue<ObjectKey>()
        let reconciler = VirtualMachinePodReconciler(
            client: client, pods: pods, queue: queue,
            configuration: .init(nodeName: configuration.nodeName, accelerator: accelerator.accelerator == .kvm ? .kvm : .tcg,
                                 podsDirectory: configuration.podsDirectory, containerDiskCache: configuration.containerDiskCache),
            logger: logger)
        pods.addHandler { event in
            if let key = event.key { await queue.add(key) }
        }
        let controller = Controller(name: "node-agent", reconciler: reconciler, queue: queue, informers: [pods], workers: 4, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await registration.run() }
            group.addTask { try await pods.run() }
            group.addTask { try await controller.run() }
        }
    }
}
