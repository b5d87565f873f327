import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import VirtAPI
import VirtAPIServer
import VirtClient
import VirtControllers
import VirtNode
import VirtStore

/// `swiftvirtd`: the SwiftVirt daemon.
@main
struct SwiftVirtDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftvirtd",
        abstract: "The SwiftVirt daemon: API server, controllers and node agent.")

    @Option(help: "What this process runs: all (API server + controllers + node agent), api, controllers or node.")
    var role: Role = .all

    @Option(help: "Where the store, certificates, token and kubeconfig live.")
    var dataDir: String = "/var/lib/swiftvirt"

    @Option(help: "Address and port of the API server (HOST:PORT).")
    var listen: String = "127.0.0.1:6443"

    @Option(help: "The store: sqlite:PATH (default: DATA_DIR/store.db).")
    var store: String?

    @Option(help: "Seconds of watch history kept before compaction.")
    var compactionInterval: Int = 300

    @Flag(help: "Serve plain HTTP instead of HTTPS (tests only).")
    var insecureHTTP = false

    @Option(help: "This node's name (default: the host name).")
    var nodeName: String?

    @Option(help: "The node's InternalIP: its pods' hostIP, and where the API server reaches the node agent's endpoint.")
    var nodeAddress: String = "127.0.0.1"

    @Option(help: "The node agent's HTTPS endpoint port (0: a free one; the Node reports it).")
    var nodePort: Int = 0

    @Option(help: "The directory every node mounts for shared (swiftvirt.io/shared, ReadWriteMany) volumes (default: DATA_DIR/shared-volumes).")
    var sharedVolumeDir: String?

    @Flag(help: "Run guests under TCG emulation even when KVM works (KubeVirt's useEmulation).")
    var emulation = false

    @Option(help: "--role all|controllers: the cluster's pod address range; each Node gets a subnet of it as spec.podCIDR.")
    var clusterCIDR: String = NodeIPAMController.Configuration.defaultClusterCIDR.description

    @Option(help: "--role all|controllers: the prefix length of each Node's pod subnet.")
    var nodeCIDRMaskSize: Int = 24

    @Option(help: "--role all|node: the pod network: cni (each pod's eth0 on the node bridge through the CNI plugins, VMs behind masquerade) or user (QEMU's user-mode NAT, nothing set up on the host).")
    var podNetwork: PodNetworkMode = .cni

    @Option(help: "--role all|node: the node's bridge that the pods' eth0 hang on.")
    var podBridge: String = "swiftvirt0"

    enum PodNetworkMode: String, ExpressibleByArgument, CaseIterable {
        case cni, user
    }

    /// The node agent's pod network: per-node namespace directory on /run, records and addresses under DATA_DIR.
    func podNetworkConfiguration(node: String) -> PodNetworkAttacher.Configuration? {
        guard podNetwork == .cni else { return nil }
        let resolvers = PodNetworkAttacher.Configuration.hostResolvers((try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "")
        return PodNetworkAttacher.Configuration(
            namespaceDirectory: "/run/swiftvirt/\(node)/netns", recordDirectory: dataDir + "/network", addressDirectory: dataDir + "/cni/networks",
            bridge: podBridge, dnsServers: resolvers.servers, searchDomains: resolvers.search)
    }

    /// What the controllers run with.
    func controllerConfiguration(host: String) throws -> ControllerManager.Configuration {
        let cidr: IPv4CIDR
        do {
            cidr = try IPv4CIDR(parsing: clusterCIDR, strict: true)
        } catch {
            throw ValidationError("--cluster-cidr: \(error.message)")
        }
        guard (cidr.prefixLength...30).contains(nodeCIDRMaskSize) else {
            throw ValidationError("--node-cidr-mask-size \(nodeCIDRMaskSize) must lie between the cluster CIDR's prefix length (\(cidr.prefixLength)) and 30")
        }
        return .init(vmi: .init(emulation: emulation ? .enabled : .auto), host: host,
                     nodeIPAM: .init(clusterCIDR: cidr, nodeMaskSize: nodeCIDRMaskSize))
    }

    @Option(help: "--role node|controllers: the API server's URL (default: the kubeconfig's).")
    var server: String?

    @Option(help: "--role node|controllers: credentials for the API server (default: DATA_DIR/kubeconfig, as the API server writes it).")
    var kubeconfig: String?

    /// Local volumes under `DATA_DIR/volumes`; shared ones in `--shared-volume-dir`.
    var volumeDirectories: VolumeDirectories {
        VolumeDirectories(local: dataDir + "/volumes", shared: sharedVolumeDir ?? dataDir + "/shared-volumes")
    }

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case all, api, controllers, node
    }

    func run() async throws {
        var logger = Logger(label: "swiftvirtd")
        logger.logLevel = .info
        if role == .node || role == .controllers {
            try await runAgainstServer(logger: logger)
            return
        }
        if server != nil || kubeconfig != nil {
            throw ValidationError("--server and --kubeconfig are for --role node or controllers, which join an API server; --role \(role.rawValue) serves the API itself")
        }
        if role == .all, insecureHTTP {
            throw ValidationError("--insecure-http is for --role api only: the controllers and node agent need the HTTPS credentials")
        }
        let (host, port) = try parseListen(listen)
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let storePath: String
        switch store {
        case nil: storePath = dataDir + "/store.db"
        case let value? where value.hasPrefix("sqlite:"): storePath = String(value.dropFirst("sqlite:".count))
        case let value?: throw ValidationError("--store \(value): use sqlite:PATH (an etcd store is not supported yet)")
        }
        let sqlite = try SQLiteStore(path: storePath)
        var credentials: ServerCredentials?
        var tokens: Set<String>?
        if !insecureHTTP {
            let loaded = try ServerCredentials.loadOrCreate(dataDir: dataDir, hosts: [host])
            credentials = loaded
            tokens = [loaded.token]
        }
        let node = nodeName ?? ProcessInfo.processInfo.hostName.lowercased()
        // Console, VNC, exec and the pause verbs go to the agent of the VMI's node, over its HTTPS endpoint.
        let streams = try credentials.map { try NodeAgentClient(store: sqlite, credentials: $0) }
        // Upload tokens are signed with a key derived from the cluster's token, which every API server holds.
        let router = APIRouter(store: sqlite, tokens: tokens, streams: streams,
                               uploadTokens: credentials.map { UploadTokenSigner.derived(fromClusterSecret: $0.token) } ?? .random())
        try await Bootstrap.ensureNamespaces(router.handler)
        try await Bootstrap.ensureStorageClasses(router.handler)
        let scheme = insecureHTTP ? "http" : "https"
        let kubeconfigCredentials = credentials
        let log = logger
        let dataDir = self.dataDir
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let server = APIServer(
            configuration: .init(host: host, port: port, credentials: kubeconfigCredentials), router: router, logger: logger,
            onListening: { actualPort in
                let displayHost = host.contains(":") ? "[\(host)]" : host
                let url = "\(scheme)://\(displayHost):\(actualPort)"
                do {
                    try kubeconfigCredentials?.writeKubeconfig(path: dataDir + "/kubeconfig", server: url)
                } catch {
                    log.error("cannot write the kubeconfig: \(error)")
                }
                log.info("API server listening on \(url); KUBECONFIG=\(dataDir)/kubeconfig")
                portContinuation.yield(actualPort)
                portContinuation.finish()
            })
        var services: [any Service] = [
            server,
            GarbageCollector(handler: router.handler, logger: logger),
            Compactor(store: sqlite, interval: .seconds(compactionInterval)),
        ]
        if credentials != nil {
            // Node agents' serving certificates, from the CA only this process holds.
            services.append(try NodeCertificateSigner(handler: router.handler, dataDir: dataDir, logger: logger))
        }
        if role == .all, let credentials = kubeconfigCredentials {
            let (emulation, nodeAddress, nodePort) = (self.emulation, self.nodeAddress, self.nodePort)
            let volumeDirectories = self.volumeDirectories
            let controllerConfiguration = try self.controllerConfiguration(host: node)
            let podNetwork = self.podNetworkConfiguration(node: node)
            services.append(LocalClusterServices(ports: ports, host: host, credentials: credentials, logger: logger) { client in
                let agent = NodeAgent(client: client, configuration: .init(nodeName: node, nodeAddress: nodeAddress, forceEmulation: emulation,
                                                                          podsDirectory: dataDir + "/pods", containerDiskCache: dataDir + "/containerdisks",
                                                                          probeCachePath: dataDir + "/accelerator.json",
                                                                          pkiDirectory: dataDir + "/node-pki", clusterCAPEM: credentials.caPEM,
                                                                          endpointPort: nodePort, volumeDirectories: volumeDirectories,
                                                                          podNetwork: podNetwork),
                                      logger: log)
                let controllers = ControllerManager(client: client, configuration: controllerConfiguration, logger: log)
                return (agent, [controllers])
            })
        }
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Open watches never end by themselves: give requests in flight a moment, then cancel.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(2)
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
    }

    /// `--role node` (a node agent) or `--role controllers` (controllers and scheduler): no API server and
    /// no store here, only a client of the API server at `--server`, authenticated by `--kubeconfig`.
    func runAgainstServer(logger: Logger) async throws {
        let path = kubeconfig ?? dataDir + "/kubeconfig"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("--role \(role.rawValue) joins an API server and needs its credentials: pass --kubeconfig PATH (the API server writes one to its DATA_DIR/kubeconfig) and, if it names another address, --server URL")
        }
        var configuration = try Kubeconfig.load(explicitPath: path).configuration(context: nil)
        if let server { configuration.server = server }
        configuration.userAgent = "swiftvirtd/\(role.rawValue)"
        let client = try KubeClient(configuration: configuration)
        let node = nodeName ?? ProcessInfo.processInfo.hostName.lowercased()
        let service: any Service
        if role == .node {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            guard let ca = configuration.certificateAuthorityPEM, !ca.isEmpty else {
                throw ValidationError("--role node needs the cluster CA to get its endpoint's certificate: use a kubeconfig with certificate-authority-data (the one the API server writes to its DATA_DIR/kubeconfig)")
            }
            service = NodeAgent(client: client, configuration: .init(nodeName: node, nodeAddress: nodeAddress, forceEmulation: emulation,
                                                                     podsDirectory: dataDir + "/pods", containerDiskCache: dataDir + "/containerdisks",
                                                                     probeCachePath: dataDir + "/accelerator.json",
                                                                     pkiDirectory: dataDir + "/node-pki", clusterCAPEM: String(decoding: ca, as: UTF8.self),
                                                                     endpointPort: nodePort, volumeDirectories: volumeDirectories,
                                                                     podNetwork: podNetworkConfiguration(node: node)),
                                logger: logger)
            logger.info("node agent for node \(node) joining \(configuration.server)")
        } else {
            service = ControllerManager(client: client, configuration: try controllerConfiguration(host: node), logger: logger)
            logger.info("controllers joining \(configuration.server)")
        }
        var groupConfiguration = ServiceGroupConfiguration(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(2)
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen \(text): use HOST:PORT, e.g. 127.0.0.1:6443")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// The controllers and node agent of an all-in-one daemon: they talk to this process's own API server over
/// HTTPS like any other client, once it listens. The node agent registers its Node before the controllers
/// start, so the scheduler never sees a cluster without nodes.
struct LocalClusterServices: Service {
    let ports: AsyncStream<Int>
    let host: String
    let credentials: ServerCredentials
    let logger: Logger
    let make: @Sendable (KubeClient) -> (NodeAgent, [any Service])

    init(ports: AsyncStream<Int>, host: String, credentials: ServerCredentials, logger: Logger, make: @escaping @Sendable (KubeClient) -> (NodeAgent, [any Service])) {
        self.ports = ports
        self.host = host
        self.credentials = credentials
        self.logger = logger
        self.make = make
    }

    func run() async throws {
        var port = 0
        for await value in ports { port = value }
        guard port > 0 else { return }
        let connectHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        let client = try KubeClient(configuration: ClientConfiguration(
            server: "https://\(connectHost):\(port)", certificateAuthorityPEM: Array(credentials.caPEM.utf8), bearerToken: credentials.token,
            userAgent: "swiftvirtd/local"))
        let (agent, others) = make(client)
        do {
            try await agent.register()
            try await withThrowingDiscardingTaskGroup { group in
                for service in [agent as any Service] + others {
                    group.addTask { try await service.run() }
                }
            }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}
