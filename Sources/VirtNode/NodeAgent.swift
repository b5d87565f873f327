import Logging
import ServiceLifecycle
import Synchronization
import VirtClient
import VirtDisk
import VirtAPI
import VirtQEMU
import VirtReconcile

/// The node agent (KubeVirt's virt-handler and virt-launcher in one): finds out how guests run here,
/// registers the Node, keeps its Lease, and runs the guests of the VMIs that concern this node.
public final class NodeAgent: Service, Sendable {
    public struct Configuration: Sendable {
        public var nodeName: String
        /// The node's InternalIP (its pods' `hostIP`).
        public var nodeAddress: String
        public var forceEmulation: Bool
        public var podsDirectory: String
        public var containerDiskCache: String
        /// Where the accelerator probe's verdict is remembered (per boot of the host and QEMU build).
        public var probeCachePath: String?

        public init(nodeName: String, nodeAddress: String = "127.0.0.1", forceEmulation: Bool, podsDirectory: String, containerDiskCache: String,
                    probeCachePath: String? = nil) {
            self.nodeName = nodeName
            self.nodeAddress = nodeAddress
            self.forceEmulation = forceEmulation
            self.podsDirectory = podsDirectory
            self.containerDiskCache = containerDiskCache
            self.probeCachePath = probeCachePath
        }
    }

    let client: KubeClient
    let configuration: Configuration
    let logger: Logger
    private let registered = Mutex<NodeRegistration?>(nil)

    public init(client: KubeClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    /// Probes the accelerator and registers the Node; `run()` does it too when it was not done first. The
    /// all-in-one daemon calls it before its controllers start, so they never see a cluster without nodes.
    @discardableResult
    public func register() async throws -> NodeRegistration {
        if let done = registered.withLock({ $0 }) { return done }
        let accelerator = await AcceleratorProbe(cachePath: configuration.probeCachePath).probe(forceEmulation: configuration.forceEmulation)
        logger.info("node \(configuration.nodeName): guests run with \(accelerator.accelerator.rawValue) (\(accelerator.reason))")
        let registration = NodeRegistration(
            client: client, configuration: .init(nodeName: configuration.nodeName, nodeAddress: configuration.nodeAddress, accelerator: accelerator),
            logger: logger)
        try await registration.register()
        registered.withLock { $0 = registration }
        return registration
    }

    public func run() async throws {
        let registration = try await register()
        let nodeName = configuration.nodeName
        let pods = Informer(client: client, path: .core("pods"), kind: "Pod", fieldSelector: "spec.nodeName=\(nodeName)", logger: logger)
        // Every VMI: one that migrates here or away does not name this node in status.nodeName.
        let vmis = Informer(client: client, path: KubeVirt.virtualMachineInstances, kind: "VirtualMachineInstance", logger: logger)
        let queue = WorkQueue<ObjectKey>()
        let runtimes = VirtualMachineHandler.Runtimes(
            pods: RuncPodRuntime(podsDirectory: configuration.podsDirectory),
            volumes: VolumePreparer(configuration: .init(containerDiskCache: configuration.containerDiskCache, isoTool: .genisoimage)),
            networks: UserModeNetworking(),
            monitors: QMPConnector())
        let handler = VirtualMachineHandler(
            client: client, vmis: vmis.cache, pods: pods.cache, queue: queue, runtimes: runtimes,
            recorder: EventRecorder(client: client, component: "virt-handler", host: nodeName, logger: logger),
            configuration: .init(nodeName: nodeName, nodeAddress: configuration.nodeAddress,
                                 accelerator: registration.configuration.accelerator.accelerator == .kvm ? .kvm : .tcg),
            logger: logger)
        pods.addHandler { event in
            if let key = VirtualMachineHandler.vmiKey(ofPod: event.object) { await queue.add(key) }
        }
        let podCache = pods.cache
        vmis.addHandler { event in
            guard let key = event.key else { return }
            // A VMI is this node's business when it names this node, or when one of this node's pods is its.
            if VirtualMachineHandler.concerns(event.object, nodeName: nodeName)
                || podCache.list(namespace: key.namespace).contains(where: { VirtualMachineHandler.vmiKey(ofPod: $0) == key })
            {
                await queue.add(key)
            }
        }
        let controller = Controller(name: "node-agent", reconciler: handler, queue: queue, informers: [pods, vmis], workers: 4, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await registration.run() }
            group.addTask { try await pods.run() }
            group.addTask { try await vmis.run() }
            group.addTask { try await controller.run() }
        }
    }
}
