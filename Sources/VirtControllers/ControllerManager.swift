import Logging
import ServiceLifecycle
import VirtAPI
import VirtClient
import VirtReconcile

/// Everything `swiftvirtd --role all|controllers` runs besides the API server and the node agent: shared
/// informers for VirtualMachines, VirtualMachineInstances, Pods and Nodes, and the VM controller, the VMI
/// controller and the scheduler over them, wired so each change wakes the right reconciler:
///
/// | informer | wakes |
/// | --- | --- |
/// | VirtualMachine | its VM |
/// | VirtualMachineInstance | its VMI, and the VM that owns it |
/// | Pod | the VMI that owns it; the scheduler for pending pods, and for all pending pods when a bound pod goes away |
/// | Node | the scheduler, for all pending pods, when something it filters on changes |
/// | PersistentVolumeClaim | its claim and its volume; the scheduler, for all pending pods |
/// | PersistentVolume | its volume, and the claim its `claimRef` names |
/// | StorageClass | every claim not bound yet |
/// | Pod (again) | the claims it names (their protection waits for it) |
/// | DataVolume | its DataVolume; the VM that owns it; the VMIs whose volumes name it (and their VMs) |
/// | PersistentVolumeClaim (again) | the DataVolume that owns it |
/// | DataSource | its DataSource; the DataVolumes without a claim whose `sourceRef` names it (a clone waiting, rechecked every 2 s too) |
/// | PersistentVolumeClaim, DataVolume (again) | the DataSources that name it |
/// | StorageClass (again), StorageProfile | the profile of the class' name; DataVolumes without a claim yet |
/// | Node (again) | its pod CIDR (node IPAM), when it has none |
///
/// Run it as one `Service` (``run()``), or add ``services`` to the daemon's `ServiceGroup` one by one.
public struct ControllerManager: Service {
    /// Workers, scheduler and launcher settings.
    public struct Configuration: Sendable {
        /// Concurrent VM reconciles.
        public var vmWorkers: Int
        /// Concurrent VMI reconciles.
        public var vmiWorkers: Int
        /// Launcher pod settings (emulation, node label, CPU ratio).
        public var vmi: VirtualMachineInstanceController.Configuration
        /// Whether to run the scheduler (off when another scheduler binds pods).
        public var runScheduler: Bool
        /// The `schedulerName` pods must carry for this scheduler to bind them.
        public var schedulerName: String
        /// `source.host` of recorded events.
        public var host: String?
        /// The cluster's pod address range, handed out to Nodes a subnet each.
        public var nodeIPAM: NodeIPAMController.Configuration

        public init(
            vmWorkers: Int = 2, vmiWorkers: Int = 2, vmi: VirtualMachineInstanceController.Configuration = .init(),
            runScheduler: Bool = true, schedulerName: String = Scheduler.defaultName, host: String? = nil,
            nodeIPAM: NodeIPAMController.Configuration = .init()
        ) {
            self.nodeIPAM = nodeIPAM
            self.vmWorkers = vmWorkers
            self.vmiWorkers = vmiWorkers
            self.vmi = vmi
            self.runScheduler = runScheduler
            self.schedulerName = schedulerName
            self.host = host
        }
    }

    public let vmInformer: Informer
    public let vmiInformer: Informer
    public let podInformer: Informer
    public let nodeInformer: Informer
    public let claimInformer: Informer
    public let volumeInformer: Informer
    public let classInformer: Informer
    public let dataVolumeInformer: Informer
    public let dataSourceInformer: Informer
    public let storageProfileInformer: Informer
    /// The informers, then the controllers.
    public let services: [any Service]

    /// Wires informers and controllers over `client` (a ``KubeClient`` in production).
    public init(client: any APIClient, configuration: Configuration = Configuration(), logger: Logger) {
        let vmInformer = Informer(client: client, path: KubeVirt.virtualMachines, kind: "VirtualMachine", logger: logger)
        let vmiInformer = Informer(client: client, path: KubeVirt.virtualMachineInstances, kind: "VirtualMachineInstance", logger: logger)
        let podInformer = Informer(client: client, path: KubeVirt.pods, kind: "Pod", logger: logger)
        let nodeInformer = Informer(client: client, path: KubeVirt.nodes, kind: "Node", logger: logger)
        self.vmInformer = vmInformer
        self.vmiInformer = vmiInformer
        self.podInformer = podInformer
        self.nodeInformer = nodeInformer
        let claimInformer = Informer(client: client, path: StorageNames.claims, kind: "PersistentVolumeClaim", logger: logger)
        let volumeInformer = Informer(client: client, path: StorageNames.volumes, kind: "PersistentVolume", logger: logger)
        let classInformer = Informer(client: client, path: StorageNames.classes, kind: "StorageClass", logger: logger)
        self.claimInformer = claimInformer
        self.volumeInformer = volumeInformer
        self.classInformer = classInformer
        let dataVolumeInformer = Informer(client: client, path: DataVolumeController.path, kind: "DataVolume", logger: logger)
        self.dataVolumeInformer = dataVolumeInformer
        let dataSourceInformer = Informer(client: client, path: DataSourceController.path, kind: "DataSource", logger: logger)
        self.dataSourceInformer = dataSourceInformer
        let storageProfileInformer = Informer(client: client, path: StorageProfileController.path, kind: "StorageProfile", logger: logger)
        self.storageProfileInformer = storageProfileInformer

        let controllerRecorder = EventRecorder(client: client, component: "virtualmachine-controller", host: configuration.host, logger: logger)
        let vmQueue = WorkQueue<ObjectKey>()
        let vmiQueue = WorkQueue<ObjectKey>()

        let vmController = Controller(
            name: "virtualmachine",
            reconciler: VirtualMachineController(client: client, vms: vmInformer.cache, vmis: vmiInformer.cache,
                                                 dataVolumes: dataVolumeInformer.cache, recorder: controllerRecorder, logger: logger),
            queue: vmQueue, informers: [vmInformer, vmiInformer, dataVolumeInformer], workers: configuration.vmWorkers, logger: logger)
        let vmiController = Controller(
            name: "virtualmachineinstance",
            reconciler: VirtualMachineInstanceController(
                client: client, vmis: vmiInformer.cache, pods: podInformer.cache, nodes: nodeInformer.cache,
                dataVolumes: dataVolumeInformer.cache, recorder: controllerRecorder, configuration: configuration.vmi, logger: logger),
            queue: vmiQueue, informers: [vmiInformer, podInformer, nodeInformer, dataVolumeInformer], workers: configuration.vmiWorkers, logger: logger)

        vmInformer.addHandler { event in
            if let key = event.key { await vmQueue.add(key) }
        }
        vmiInformer.addHandler { event in
            if let key = event.key { await vmiQueue.add(key) }
            if let owner = VirtualMachineController.ownerKey(ofVMI: event.object) { await vmQueue.add(owner) }
        }
        podInformer.addHandler { event in
            if let owner = event.object.controllingVMIKey { await vmiQueue.add(owner) }
        }

        let volumeQueue = WorkQueue<ObjectKey>()
        let volumeController = Controller(
            name: "persistentvolume",
            reconciler: PersistentVolumeController(
                client: client, claims: claimInformer.cache, volumes: volumeInformer.cache, classes: classInformer.cache, pods: podInformer.cache,
                profiles: storageProfileInformer.cache,
                recorder: EventRecorder(client: client, component: "persistentvolume-controller", host: configuration.host, logger: logger),
                logger: logger),
            queue: volumeQueue, informers: [claimInformer, volumeInformer, classInformer, podInformer], workers: 1, logger: logger)
        claimInformer.addHandler { event in
            if let key = event.key { await volumeQueue.add(key) }
            // A claim that goes releases its volume.
            if let volume = event.object[path: ["spec", "volumeName"]]?.stringValue, !volume.isEmpty {
                await volumeQueue.add(ObjectKey(namespace: nil, name: volume))
            }
        }
        volumeInformer.addHandler { event in
            if let key = event.key { await volumeQueue.add(key) }
            if let ref = event.object[path: ["spec", "claimRef"]], let name = ref["name"]?.stringValue {
                await volumeQueue.add(ObjectKey(namespace: ref["namespace"]?.stringValue ?? "default", name: name))
            }
        }
        let claimCache = claimInformer.cache
        classInformer.addHandler { _ in
            for claim in claimCache.list(where: { ($0[path: ["spec", "volumeName"]]?.stringValue ?? "").isEmpty }) {
                if let key = ObjectKey(object: claim) { await volumeQueue.add(key) }
            }
        }
        podInformer.addHandler { event in
            for name in PersistentVolumeController.claimNames(ofPod: event.object) {
                await volumeQueue.add(ObjectKey(namespace: event.object.metadataNamespace, name: name))
            }
        }

        let dataVolumeQueue = WorkQueue<ObjectKey>()
        let dataVolumeController = Controller(
            name: "datavolume",
            reconciler: DataVolumeController(
                client: client, dataVolumes: dataVolumeInformer.cache, claims: claimInformer.cache, classes: classInformer.cache,
                profiles: storageProfileInformer.cache,
                recorder: EventRecorder(client: client, component: "datavolume-controller", host: configuration.host, logger: logger),
                logger: logger).withCloneSources(pods: podInformer.cache, volumes: volumeInformer.cache, dataSources: dataSourceInformer.cache),
            queue: dataVolumeQueue, informers: [dataVolumeInformer, dataSourceInformer, podInformer, volumeInformer, claimInformer, classInformer, storageProfileInformer], workers: 2, logger: logger)
        let vmiCache = vmiInformer.cache
        dataVolumeInformer.addHandler { event in
            guard let key = event.key else { return }
            await dataVolumeQueue.add(key)
            // The VM that owns it reports Provisioning / DataVolumeError; the VMIs that use it wait for it.
            if let owner = event.object.controllerReference, owner.kind == "VirtualMachine" {
                await vmQueue.add(ObjectKey(namespace: key.namespace, name: owner.name))
            }
            for vmi in vmiCache.list(namespace: key.namespace) {
                let names = (vmi[path: ["spec", "volumes"]]?.arrayValue ?? []).compactMap { $0[path: ["dataVolume", "name"]]?.stringValue }
                guard names.contains(key.name), let vmiKey = ObjectKey(object: vmi) else { continue }
                await vmiQueue.add(vmiKey)
                if let owner = VirtualMachineController.ownerKey(ofVMI: vmi) { await vmQueue.add(owner) }
            }
        }
        claimInformer.addHandler { event in
            if let owner = DataVolumeController.ownerKey(ofClaim: event.object) { await dataVolumeQueue.add(owner) }
        }

        let storageProfileQueue = WorkQueue<ObjectKey>()
        let storageProfileController = Controller(
            name: "storageprofile",
            reconciler: StorageProfileController(client: client, classes: classInformer.cache, profiles: storageProfileInformer.cache, logger: logger),
            queue: storageProfileQueue, informers: [classInformer, storageProfileInformer], workers: 1, logger: logger)
        classInformer.addHandler { event in
            if let key = event.key { await storageProfileQueue.add(ObjectKey(namespace: nil, name: key.name)) }
        }
        let dataVolumeCache = dataVolumeInformer.cache
        storageProfileInformer.addHandler { event in
            if let key = event.key { await storageProfileQueue.add(ObjectKey(namespace: nil, name: key.name)) }
            // A DataVolume whose claim could not be rendered tries again with the new claim property sets.
            for dataVolume in dataVolumeCache.list() {
                if let key = ObjectKey(object: dataVolume), claimCache.get(key) == nil { await dataVolumeQueue.add(key) }
            }
        }

        // DataSources: the claim (and the DataVolume of its name) each names; a DataVolume cloning one through
        // sourceRef, when it has no claim yet, is woken when the DataSource changes.
        let dataSourceQueue = WorkQueue<ObjectKey>()
        let dataSourceController = Controller(
            name: "datasource",
            reconciler: DataSourceController(client: client, dataSources: dataSourceInformer.cache, claims: claimInformer.cache,
                                             dataVolumes: dataVolumeInformer.cache, logger: logger),
            queue: dataSourceQueue, informers: [dataSourceInformer, claimInformer, dataVolumeInformer], workers: 1, logger: logger)
        let dataSourceCache = dataSourceInformer.cache
        let cloningDataVolumes = dataVolumeInformer.cache
        let cloneClaims = claimInformer.cache
        dataSourceInformer.addHandler { event in
            guard let key = event.key else { return }
            await dataSourceQueue.add(key)
            for dataVolume in cloningDataVolumes.list() {
                guard let ref = dataVolume[path: ["spec", "sourceRef"]], ref["name"]?.stringValue == key.name,
                      (ref["namespace"]?.stringValue ?? dataVolume.metadataNamespace) == key.namespace,
                      let dataVolumeKey = ObjectKey(object: dataVolume), cloneClaims.get(dataVolumeKey) == nil
                else { continue }
                await dataVolumeQueue.add(dataVolumeKey)
            }
        }
        claimInformer.addHandler { event in
            guard let key = event.key else { return }
            for dataSource in DataSourceController.naming(key, in: dataSourceCache) { await dataSourceQueue.add(dataSource) }
        }
        dataVolumeInformer.addHandler { event in
            guard let key = event.key else { return }
            for dataSource in DataSourceController.naming(key, in: dataSourceCache) { await dataSourceQueue.add(dataSource) }
        }

        var services: [any Service] = [vmInformer, vmiInformer, podInformer, nodeInformer, claimInformer, volumeInformer, classInformer,
                                       dataVolumeInformer, storageProfileInformer, vmController, vmiController, volumeController,
                                       dataVolumeController, storageProfileController]
        services += [dataSourceInformer, dataSourceController]

        let nodeIPAMQueue = WorkQueue<ObjectKey>()
        let nodeIPAMController = Controller(
            name: "nodeipam",
            reconciler: NodeIPAMController(client: client, nodes: nodeInformer.cache, configuration: configuration.nodeIPAM, logger: logger),
            queue: nodeIPAMQueue, informers: [nodeInformer], workers: 1, logger: logger)
        nodeInformer.addHandler { event in
            guard event.kind != .deleted, let key = event.key, (event.object[path: ["spec", "podCIDR"]]?.stringValue ?? "").isEmpty else { return }
            await nodeIPAMQueue.add(key)
        }
        services.append(nodeIPAMController)

        // Services' EndpointSlices, from the pods their selectors pick.
        let serviceInformer = Informer(client: client, path: ServiceEndpointsController.services, kind: "Service", logger: logger)
        let endpointsQueue = WorkQueue<ObjectKey>()
        let endpointsController = Controller(
            name: "endpointslice",
            reconciler: ServiceEndpointsController(client: client, services: serviceInformer.cache, pods: podInformer.cache, logger: logger),
            queue: endpointsQueue, informers: [serviceInformer, podInformer], workers: 1, logger: logger)
        serviceInformer.addHandler { event in
            if let key = event.key { await endpointsQueue.add(key) }
        }
        let serviceCache = serviceInformer.cache
        podInformer.addHandler { event in
            for service in serviceCache.list(namespace: event.object.metadataNamespace) {
                if let name = service.metadataName { await endpointsQueue.add(ObjectKey(namespace: service.metadataNamespace, name: name)) }
            }
        }
        services += [serviceInformer, endpointsController]

        if configuration.runScheduler {
            let schedulerQueue = WorkQueue<ObjectKey>()
            let schedulerName = configuration.schedulerName
            let scheduler = Controller(
                name: "scheduler",
                reconciler: Scheduler(
                    client: client, pods: podInformer.cache, nodes: nodeInformer.cache,
                    recorder: EventRecorder(client: client, component: schedulerName, host: configuration.host, logger: logger),
                    schedulerName: schedulerName,
                    volumeBinding: VolumeBinding(claims: claimInformer.cache, volumes: volumeInformer.cache, classes: classInformer.cache),
                    logger: logger),
                queue: schedulerQueue, informers: [podInformer, nodeInformer, claimInformer, volumeInformer, classInformer], workers: 1, logger: logger)
            let podCache = podInformer.cache
            let enqueuePending: @Sendable () async -> Void = {
                for pod in podCache.list(where: { Scheduler.isPending($0, schedulerName: schedulerName) }) {
                    if let key = ObjectKey(object: pod) { await schedulerQueue.add(key) }
                }
            }
            podInformer.addHandler { event in
                if Scheduler.isPending(event.object, schedulerName: schedulerName), event.kind != .deleted, let key = event.key {
                    await schedulerQueue.add(key)
                }
                if ControllerManager.releasesNode(event) { await enqueuePending() }
            }
            nodeInformer.addHandler { event in
                if ControllerManager.changesScheduling(event) { await enqueuePending() }
            }
            claimInformer.addHandler { _ in await enqueuePending() }
            services.append(scheduler)
        }
        self.services = services
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { try await service.run() }
            }
            do {
                while try await group.next() != nil {}
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Whether a pod event frees node resources: a bound pod deleted, or finished.
    static func releasesNode(_ event: InformerEvent) -> Bool {
        let occupied = { (object: JSONValue?) -> Bool in
            guard let object, !(object[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty else { return false }
            let phase = object[path: ["status", "phase"]]?.stringValue
            return phase != "Succeeded" && phase != "Failed"
        }
        switch event.kind {
        case .deleted: return occupied(event.object)
        case .modified: return occupied(event.oldObject) && !occupied(event.object)
        case .added: return false
        }
    }

    /// Whether a node event changes what the scheduler's filters see.
    static func changesScheduling(_ event: InformerEvent) -> Bool {
        guard event.kind == .modified, let old = event.oldObject else { return event.kind == .added }
        let ready = { (node: JSONValue) in
            node[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }?["status"]
        }
        return old[path: ["metadata", "labels"]] != event.object[path: ["metadata", "labels"]]
            || old["spec"] != event.object["spec"]
            || old[path: ["status", "allocatable"]] != event.object[path: ["status", "allocatable"]]
            || old[path: ["status", "capacity"]] != event.object[path: ["status", "capacity"]]
            || ready(old) != ready(event.object)
    }
}
