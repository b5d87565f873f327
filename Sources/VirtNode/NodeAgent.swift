import Logging
import ServiceLifecycle
import Synchronization
import VirtAPI
import VirtClient
import VirtDisk
import VirtError
import VirtQEMU
import VirtReconcile

/// The node agent (KubeVirt's virt-handler and virt-launcher in one): finds out how guests run here,
/// registers the Node, gets its endpoint's certificate from the cluster CA, keeps its Lease, serves its
/// HTTPS endpoint to the API server, and runs the guests of the VMIs that concern this node.
public final class NodeAgent: Service, Sendable {
    public struct Configuration: Sendable {
        public var nodeName: String
        /// The node's InternalIP (its pods' `hostIP`, the address its endpoint is reached at).
        public var nodeAddress: String
        public var forceEmulation: Bool
        public var podsDirectory: String
        public var containerDiskCache: String
        /// Where the accelerator probe's verdict is remembered (per boot of the host and QEMU build).
        public var probeCachePath: String?
        /// Where the endpoint's key and certificate are kept.
        public var pkiDirectory: String
        /// The cluster CA (PEM): it signs the endpoint's certificate and the API server's.
        public var clusterCAPEM: String
        /// The endpoint's port (0: any free one; the Node says which).
        public var endpointPort: Int
        /// Where this node keeps local PersistentVolumes, and where it mounts the shared ones.
        public var volumeDirectories: VolumeDirectories
        /// The pod network through CNI (its directories and bridge); nil: QEMU's user-mode NAT, nothing on the host.
        public var podNetwork: PodNetworkAttacher.Configuration?

        public init(nodeName: String, nodeAddress: String = "127.0.0.1", forceEmulation: Bool, podsDirectory: String, containerDiskCache: String,
                    probeCachePath: String? = nil, pkiDirectory: String, clusterCAPEM: String, endpointPort: Int = 0,
                    volumeDirectories: VolumeDirectories = VolumeDirectories(), podNetwork: PodNetworkAttacher.Configuration? = nil) {
            self.volumeDirectories = volumeDirectories
            self.podNetwork = podNetwork
            self.nodeName = nodeName
            self.nodeAddress = nodeAddress
            self.forceEmulation = forceEmulation
            self.podsDirectory = podsDirectory
            self.containerDiskCache = containerDiskCache
            self.probeCachePath = probeCachePath
            self.pkiDirectory = pkiDirectory
            self.clusterCAPEM = clusterCAPEM
            self.endpointPort = endpointPort
        }
    }

    /// What `register()` set up and `run()` runs.
    struct Prepared: Sendable {
        var registration: NodeRegistration
        var pods: Informer
        var vmis: Informer
        var volumes: Informer
        var claims: Informer
        var queue: WorkQueue<ObjectKey>
        var handler: VirtualMachineHandler
        var endpoint: NodeEndpoint
    }

    let client: KubeClient
    let configuration: Configuration
    let logger: Logger
    private let prepared = Mutex<Prepared?>(nil)

    public init(client: KubeClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    /// Probes the accelerator, obtains the endpoint's certificate, starts listening and registers the Node;
    /// `run()` does it when it was not done first. The all-in-one daemon calls it before its controllers
    /// start, so they never see a cluster without nodes.
    public func register() async throws {
        if prepared.withLock({ $0 != nil }) { return }
        let nodeName = configuration.nodeName
        let accelerator = await AcceleratorProbe(cachePath: configuration.probeCachePath).probe(forceEmulation: configuration.forceEmulation)
        logger.info("node \(nodeName): guests run with \(accelerator.accelerator.rawValue) (\(accelerator.reason))")
        var registration = NodeRegistration(
            client: client, configuration: .init(nodeName: nodeName, nodeAddress: configuration.nodeAddress, accelerator: accelerator),
            logger: logger)

        let pods = Informer(client: client, path: .core("pods"), kind: "Pod", fieldSelector: "spec.nodeName=\(nodeName)", logger: logger)
        // Every VMI: one that migrates here or away does not name this node in status.nodeName.
        let vmis = Informer(client: client, path: KubeVirt.virtualMachineInstances, kind: "VirtualMachineInstance", logger: logger)
        let volumes = Informer(client: client, path: StorageNames.volumes, kind: "PersistentVolume", logger: logger)
        let claims = Informer(client: client, path: StorageNames.claims, kind: "PersistentVolumeClaim", logger: logger)
        let queue = WorkQueue<ObjectKey>()
        let podRuntime = RuncPodRuntime(podsDirectory: configuration.podsDirectory)
        let networks: any NetworkAttacher = configuration.podNetwork.map { podNetwork in
            PodNetworkAttacher(configuration: podNetwork, podCIDR: NodeRegistration.podCIDR(client: client, nodeName: nodeName),
                               definitions: { [client] namespace, name in
                                   let path = ResourcePath(group: "k8s.cni.cncf.io", version: "v1", resource: "network-attachment-definitions",
                                                           namespace: namespace, name: name)
                                   let object: JSONValue
                                   do {
                                       object = try await client.get(path)
                                   } catch let error as VirtError where error.code == .notFound {
                                       return nil
                                   }
                                   let definition: NetworkAttachmentDefinition = try object.decoded()
                                   return definition
                               })
        } ?? UserModeNetworking()
        let runtimes = VirtualMachineHandler.Runtimes(
            pods: podRuntime,
            volumes: VolumePreparer(configuration: .init(containerDiskCache: configuration.containerDiskCache, isoTool: .genisoimage)),
            networks: networks,
            monitors: QMPConnector())
        let handler = VirtualMachineHandler(
            client: client, vmis: vmis.cache, pods: pods.cache, queue: queue, runtimes: runtimes,
            recorder: EventRecorder(client: client, component: "virt-handler", host: nodeName, logger: logger),
            configuration: .init(nodeName: nodeName, nodeAddress: configuration.nodeAddress, accelerator: accelerator.accelerator == .kvm ? .kvm : .tcg,
                           volumeDirectories: configuration.volumeDirectories),
            logger: logger)

        let certificate = try await NodeServingCertificate.obtain(
            client: client, nodeName: nodeName, addresses: [configuration.nodeAddress], caPEM: configuration.clusterCAPEM,
            directory: configuration.pkiDirectory, logger: logger)
        let endpoint = try await NodeEndpoint(
            handler: handler, streams: PodStreams(nodeName: nodeName, runtime: podRuntime),
            configuration: .init(host: configuration.nodeAddress, port: configuration.endpointPort, certificate: certificate, caPEM: configuration.clusterCAPEM),
            logger: logger,
            uploads: VolumeUploadHandler(client: client, claims: claims.cache, volumes: volumes.cache, nodeName: nodeName,
                                         directories: configuration.volumeDirectories,
                                         importer: UploadImporterProcess(sandbox: ImporterSandbox(podsDirectory: configuration.podsDirectory)),
                                         logger: logger))
        // The Node appears with its endpoint's port, so the API server can reach the agent from the start.
        registration.configuration.endpointPort = endpoint.port
        try await registration.register()
        try await registration.heartbeat()
        prepared.withLock { $0 = Prepared(registration: registration, pods: pods, vmis: vmis, volumes: volumes, claims: claims, queue: queue, handler: handler, endpoint: endpoint) }
    }

    public func run() async throws {
        try await register()
        guard let prepared = prepared.withLock({ $0 }) else { return }
        let nodeName = configuration.nodeName
        // Before any guest starts here: the loop devices an earlier run left behind.
        let podRuntime = RuncPodRuntime(podsDirectory: configuration.podsDirectory)
        let sweep = VolumeLoopSweep(loops: LoopDevices(), directories: configuration.volumeDirectories, podsDirectory: configuration.podsDirectory,
                                    stateDirectory: { podRuntime.stateDirectory(of: $0) }, logger: logger)
        do {
            try await sweep.run()
        } catch {
            logger.warning("cannot look for leftover loop devices: \(error)")
        }
        // And the network namespaces and CNI attachments of sandboxes that are gone.
        await prepared.handler.runtimes.networks.sweep(isRunning: { id in (try? await podRuntime.status(id)) != nil })
        let (pods, vmis, queue) = (prepared.pods, prepared.vmis, prepared.queue)
        pods.addHandler { event in
            if let key = event.object.controllingVMIKey { await queue.add(key) }
        }
        let podCache = pods.cache
        vmis.addHandler { event in
            guard let key = event.key else { return }
            // A VMI is this node's business when it names this node, or when one of this node's pods is its.
            if VirtualMachineHandler.concerns(event.object, nodeName: nodeName)
                || podCache.list(namespace: key.namespace).contains(where: { $0.controllingVMIKey == key })
            {
                await queue.add(key)
            }
        }
        let controller = Controller(name: "node-agent", reconciler: prepared.handler, queue: queue, informers: [pods, vmis], workers: 4, logger: logger)
        let volumes = prepared.volumes
        let reclaimQueue = WorkQueue<ObjectKey>()
        volumes.addHandler { event in
            if event.object.metadataDeletionTimestamp != nil, let key = event.key { await reclaimQueue.add(key) }
        }
        let reclaimer = Controller(
            name: "volume-reclaim",
            reconciler: PersistentVolumeReclaimer(client: client, volumes: volumes.cache, nodeName: nodeName,
                                                  directories: configuration.volumeDirectories, logger: logger),
            queue: reclaimQueue, informers: [volumes], workers: 1, logger: logger)
        // Upload targets, keyed by claim: made ready to receive once bound here (the endpoint receives them).
        let uploadQueue = WorkQueue<ObjectKey>()
        prepared.claims.addHandler { event in
            if event.kind != .deleted, VolumeUploadHandler.isUploadTarget(event.object), let key = event.key { await uploadQueue.add(key) }
        }
        let uploadClaims = prepared.claims.cache
        volumes.addHandler { event in
            if let ref = event.object[path: ["spec", "claimRef"]], let name = ref["name"]?.stringValue {
                let key = ObjectKey(namespace: ref["namespace"]?.stringValue ?? "default", name: name)
                if let claim = uploadClaims.get(key), VolumeUploadHandler.isUploadTarget(claim) { await uploadQueue.add(key) }
            }
        }
        // The endpoint's handler: the claims it receives into are the ones it made ready.
        let uploads = prepared.endpoint.uploads ?? VolumeUploadHandler(
            client: client, claims: prepared.claims.cache, volumes: volumes.cache, nodeName: nodeName,
            directories: configuration.volumeDirectories, logger: logger)
        let uploader = Controller(
            name: "volume-upload",
            reconciler: uploads,
            queue: uploadQueue, informers: [prepared.claims, volumes], workers: 1, logger: logger)
        // DataVolume imports, keyed by claim: a claim that asks for one, or the volume bound to it.
        let claims = prepared.claims
        let importQueue = WorkQueue<ObjectKey>()
        claims.addHandler { event in
            if event.kind != .deleted, VolumeImportHandler.wantsImport(event.object), let key = event.key { await importQueue.add(key) }
        }
        volumes.addHandler { event in
            if let ref = event.object[path: ["spec", "claimRef"]], let name = ref["name"]?.stringValue {
                let key = ObjectKey(namespace: ref["namespace"]?.stringValue ?? "default", name: name)
                if let claim = claims.cache.get(key), VolumeImportHandler.wantsImport(claim) { await importQueue.add(key) }
            }
        }
        let importer = Controller(
            name: "volume-import",
            reconciler: VolumeImportHandler(client: client, claims: claims.cache, volumes: volumes.cache, nodeName: nodeName,
                                            directories: configuration.volumeDirectories,
                                            importer: RegistryImageImporter(puller: ContainerDiskPuller(cacheDirectory: configuration.containerDiskCache),
                                                                            next: ImporterProcess(sandbox: ImporterSandbox(podsDirectory: configuration.podsDirectory))),
                                            logger: logger),
            queue: importQueue, informers: [claims, volumes], workers: 2, logger: logger)
        // DataVolume clones, keyed by the target claim: a claim with a clone request, the volume bound to it,
        // or its source claim (which may become populated after the target is bound).
        let cloneQueue = WorkQueue<ObjectKey>()
        claims.addHandler { event in
            if event.kind != .deleted, VolumeCloneHandler.wantsClone(event.object), let key = event.key { await cloneQueue.add(key) }
        }
        volumes.addHandler { event in
            if let ref = event.object[path: ["spec", "claimRef"]], let name = ref["name"]?.stringValue {
                let key = ObjectKey(namespace: ref["namespace"]?.stringValue ?? "default", name: name)
                if let claim = claims.cache.get(key), VolumeCloneHandler.wantsClone(claim) { await cloneQueue.add(key) }
            }
        }
        let cloner = Controller(
            name: "volume-clone",
            reconciler: VolumeCloneHandler(client: client, claims: claims.cache, volumes: volumes.cache, nodeName: nodeName,
                                           directories: configuration.volumeDirectories, logger: logger),
            queue: cloneQueue, informers: [claims, volumes], workers: 2, logger: logger)
        // nmstate policies, one at a time; the node's NodeNetworkState now and every minute.
        let policies = Informer(client: client, path: NodeNetworkPolicyHandler.policies, kind: "NodeNetworkConfigurationPolicy", logger: logger)
        let policyQueue = WorkQueue<ObjectKey>()
        // A new generation, or a policy made or deleted: status writes (the agent's own among them) are not news.
        let generations = PolicyGenerations()
        policies.addHandler { event in
            guard let key = event.key else { return }
            if event.kind == .modified, !generations.changed(key.name, event.object.metadataGeneration) { return }
            if event.kind == .deleted { generations.forget(key.name) } else { _ = generations.changed(key.name, event.object.metadataGeneration) }
            await policyQueue.add(key)
        }
        // The node's labels pick the policies (nodeSelector): a change of them weighs every policy again.
        let thisNode = Informer(client: client, path: KubeVirt.nodes, kind: "Node", fieldSelector: "metadata.name=\(nodeName)", logger: logger)
        thisNode.addHandler { event in
            guard event.kind == .modified, event.oldObject?.metadataLabels != event.object.metadataLabels else { return }
            for key in policies.cache.keys { await policyQueue.add(key) }
        }
        let policyHandler = NodeNetworkPolicyHandler(client: client, policies: policies.cache, nodeName: nodeName, logger: logger)
        let policyController = Controller(name: "node-network-policy", reconciler: policyHandler, queue: policyQueue, informers: [policies, thisNode],
                                          workers: 1, logger: logger)
        let stateLogger = logger
        // Services: the node's nftables table, from the Services and their EndpointSlices.
        let services = Informer(client: client, path: .core("services"), kind: "Service", logger: logger)
        let slices = Informer(client: client, path: ResourcePath(group: "discovery.k8s.io", version: "v1", resource: "endpointslices"),
                              kind: "EndpointSlice", logger: logger)
        let proxyQueue = WorkQueue<ObjectKey>()
        for informer in [services, slices] {
            informer.addHandler { _ in await proxyQueue.add(ServiceProxy.key) }
        }
        await proxyQueue.add(ServiceProxy.key)
        let serviceProxy = ServiceProxy(services: services.cache, slices: slices.cache, nodeName: nodeName,
                                        bridge: configuration.podNetwork?.bridge, logger: logger)
        let proxy = Controller(name: "service-proxy", reconciler: serviceProxy, queue: proxyQueue, informers: [services, slices],
                               workers: 1, logger: logger)
        // The node's Service rules go with the agent: left behind, a later cluster's Services (offered the
        // same addresses by name) would be carried to pods that are gone.
        defer { serviceProxy.removeTable() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await services.run() }
            group.addTask { try await slices.run() }
            group.addTask { try await proxy.run() }
            group.addTask { try await policies.run() }
            group.addTask { try await thisNode.run() }
            group.addTask { try await policyController.run() }
            group.addTask {
                while !Task.isCancelled {
                    do {
                        try await policyHandler.writeState()
                    } catch {
                        stateLogger.warning("cannot report node \(nodeName)'s NodeNetworkState: \(error)")
                    }
                    try await Task.sleep(for: .seconds(60))
                }
            }
            group.addTask { try await claims.run() }
            group.addTask { try await cloner.run() }
            group.addTask { try await importer.run() }
            group.addTask { try await prepared.registration.run() }
            group.addTask { try await prepared.endpoint.run() }
            group.addTask { try await pods.run() }
            group.addTask { try await vmis.run() }
            group.addTask { try await controller.run() }
            group.addTask { try await volumes.run() }
            group.addTask { try await reclaimer.run() }
            group.addTask { try await uploader.run() }
        }
    }
}

/// The generation of each policy last queued.
final class PolicyGenerations: Sendable {
    private let seen = Mutex<[String: Int64]>([:])

    /// Records `generation`; true when it differs from the one recorded.
    func changed(_ name: String, _ generation: Int64?) -> Bool {
        seen.withLock { seen in
            let value = generation ?? 0
            defer { seen[name] = value }
            return seen[name] != value
        }
    }

    func forget(_ name: String) { _ = seen.withLock { $0.removeValue(forKey: name) } }
}
