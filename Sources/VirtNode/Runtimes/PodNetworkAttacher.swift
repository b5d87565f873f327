import Foundation
import VirtAPI
import VirtError
import VirtNetwork
import VirtOS
import VirtQEMU

/// The pod network as the node gives it: every launcher pod gets a network namespace of its own, pinned
/// at `namespaceDirectory/<sandbox>` before its sandbox starts, with `eth0` on the node's bridge through
/// the real CNI `bridge` plugin and `host-local` addresses from the Node's `spec.podCIDR`. Each VM
/// interface bound with `masquerade` is wired behind NAT inside the namespace (``PodWiring/masquerade(_:)``)
/// and its guest gets its address from the agent's DHCP responder.
///
/// Every ADD is recorded before it runs (``AttachmentRecordStore``), so `detach` can always run DEL: on
/// every teardown path, after a failed attach, and for the leftovers of an agent that died (``sweep``).
public struct PodNetworkAttacher: NetworkAttacher {
    public struct Configuration: Sendable {
        /// Where the pods' network namespaces are pinned (per node agent, on a tmpfs: gone at reboot, as
        /// the namespaces are).
        public var namespaceDirectory: String
        /// Where the attachment records are kept.
        public var recordDirectory: String
        /// host-local's allocations.
        public var addressDirectory: String
        /// The node's bridge.
        public var bridge: String
        /// The DNS servers guests are told of.
        public var dnsServers: [String]
        /// The search domains guests are told of.
        public var searchDomains: [String]

        public init(namespaceDirectory: String, recordDirectory: String, addressDirectory: String, bridge: String = NetworkNames.podBridge,
                    dnsServers: [String] = [], searchDomains: [String] = []) {
            self.namespaceDirectory = namespaceDirectory
            self.recordDirectory = recordDirectory
            self.addressDirectory = addressDirectory
            self.bridge = bridge
            self.dnsServers = dnsServers
            self.searchDomains = searchDomains
        }

        /// The host's own resolvers (from resolv.conf), without the loopback ones a guest cannot reach.
        public static func hostResolvers(_ text: String) -> (servers: [String], search: [String]) {
            var servers: [String] = [], search: [String] = []
            for line in text.split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let keyword = fields.first else { continue }
                if keyword == "nameserver", fields.count > 1, let address = IPv4Address(fields[1]), address.octets[0] != 127 {
                    servers.append(address.description)
                } else if keyword == "search" {
                    search = Array(fields.dropFirst())
                }
            }
            return (servers, search)
        }
    }

    let configuration: Configuration
    let cni: CNIRuntime
    let namespaces: NetworkNamespaces
    let records: AttachmentRecordStore
    let responder: DHCPResponder
    let runner: any CommandRunner
    /// The node's pod subnet (its Node's `spec.podCIDR`); throws while it has none.
    let podCIDR: @Sendable () async throws -> IPv4CIDR

    public init(configuration: Configuration, responder: DHCPResponder = DHCPResponder(), runner: any CommandRunner = ProcessRunner(),
                podCIDR: @escaping @Sendable () async throws -> IPv4CIDR) {
        self.configuration = configuration
        self.cni = CNIRuntime(runner: runner)
        self.namespaces = NetworkNamespaces(runner: runner)
        self.records = AttachmentRecordStore(directory: configuration.recordDirectory)
        self.responder = responder
        self.runner = runner
        self.podCIDR = podCIDR
    }

    func namespacePath(_ sandboxID: String) -> String { configuration.namespaceDirectory + "/" + sandboxID }

    /// The pod network's configuration list: the node bridge as the pods' gateway, masquerading what
    /// leaves the pod subnet, with hairpin so a pod reaches itself through a Service address.
    func podNetworkList(_ subnet: IPv4CIDR) throws -> CNINetworkConfigList {
        let config: JSONValue = [
            "cniVersion": "1.0.0", "name": .string(NetworkNames.podNetwork),
            "plugins": [[
                "type": "bridge", "bridge": .string(configuration.bridge), "isGateway": true, "ipMasq": true, "hairpinMode": true,
                "ipam": [
                    "type": "host-local", "ranges": [[["subnet": .string(subnet.description)]]],
                    "routes": [["dst": "0.0.0.0/0"]], "dataDir": .string(configuration.addressDirectory),
                ],
            ]],
        ]
        return try CNINetworkConfigList(json: config)
    }

    public func attach(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> NetworkAttachment {
        let interfaces = try Self.masqueradeInterfaces(vmi)
        guard !interfaces.isEmpty else { return NetworkAttachment() }
        let subnet = try await podCIDR()
        let path = namespacePath(sandboxID)
        // What an earlier attempt for this sandbox left.
        try await detach(sandboxID: sandboxID)
        try await namespaces.create(at: path)
        var record = AttachmentRecord(sandboxID: sandboxID, namespacePath: path)
        do {
            record.attachments.append(.init(
                network: NetworkNames.podNetwork, ifName: NetworkNames.podInterface, configList: try podNetworkList(subnet),
                args: [.init("IgnoreUnknown", "true"), .init("K8S_POD_NAMESPACE", vmi.metadata?.namespace ?? "default"),
                       .init("K8S_POD_INFRA_CONTAINER_ID", sandboxID)]))
            try records.write(record)
            let result = try await cni.add(record.attachments[0].configList, record.cniAttachment(0))
            record.attachments[0].result = result
            try records.write(record)

            let wiring = try Self.wiring(interfaces, podNetwork: result, namespacePath: path)
            let commands = NamespacedCommands(namespacePath: path, runner: runner)
            try await commands.ip(wiring.ipCommands)
            try await commands.sysctl(wiring.sysctls.map { ($0.key, $0.value) })
            if !wiring.nftRuleset.isEmpty { try await commands.nft(wiring.nftRuleset) }
            try await serveGuests(vmi, wiring: wiring, path: path)

            var attachment = NetworkAttachment(namespacePath: path)
            for (name, tap) in wiring.taps { attachment.backends[name] = .tap(device: tap) }
            attachment.podIPs = result.addresses(ofInterface: NetworkNames.podInterface, inSandbox: path).compactMap {
                $0.address.split(separator: "/").first.map(String.init)
            }
            return attachment
        } catch {
            try? await detach(sandboxID: sandboxID)
            throw error
        }
    }

    /// The in-pod wiring of the masquerade interfaces, at the MTU of the pod's `eth0` (from its ADD result).
    static func wiring(_ interfaces: [MasqueradeInterface], podNetwork result: CNIResult, namespacePath: String) throws -> PodWiring {
        let mtu = result.interface(named: NetworkNames.podInterface, inSandbox: namespacePath)?.mtu ?? 1500
        return try PodWiring.masquerade(interfaces.map {
            PodWiring.Masquerade(interfaceName: $0.interface.name, tap: $0.tap, mtu: mtu, guestNetwork: $0.guestNetwork, ports: $0.ports)
        })
    }

    /// The DHCP answers for each guest interface of `wiring`.
    func serveGuests(_ vmi: VirtualMachineInstance, wiring: PodWiring, path: String) async throws {
        let identity = vmi.spec.domain.firmware?.uuid ?? vmi.metadata?.uid ?? ""
        for interface in vmi.spec.domain.devices.interfaces ?? [] {
            guard let guest = wiring.guestAddresses[interface.name] else { continue }
            guard let macText = QEMUCommand.guestMACAddress(of: interface, vmiUID: identity), let mac = DHCPHardwareAddress(macText) else {
                throw VirtError(.invalid, "interface \(interface.name): macAddress \(interface.macAddress ?? "") is not a MAC address")
            }
            let lease = DHCPLease(
                address: guest.address, prefixLength: guest.prefixLength, serverAddress: guest.router, router: guest.router,
                dnsServers: configuration.dnsServers.compactMap { IPv4Address($0) }, searchDomains: configuration.searchDomains,
                hostname: Self.hostname(vmi), mtu: guest.mtu,
                extraOptions: try DHCPLease.options(kubeVirtDHCPOptions: interface.dhcpOptions))
            try await responder.serve(lease: lease, clientMAC: mac, device: guest.device, namespacePath: path)
        }
    }

    /// The guest's host name: the VMI's `hostname`, else its name (as the pod's).
    static func hostname(_ vmi: VirtualMachineInstance) -> String? {
        vmi.spec.hostname ?? vmi.metadata?.name
    }

    /// A masquerade interface on the pod network: its tap, the guest's network and the ports forwarded.
    struct MasqueradeInterface {
        var interface: Interface
        var tap: String
        var guestNetwork: IPv4CIDR
        var ports: [PodWiring.Masquerade.Port]
    }

    /// The masquerade interfaces of `vmi` on the pod network, in spec order: each with its tap, its guest
    /// network (the network's `vmNetworkCIDR`, else 10.0.2.0/24) and its ports.
    static func masqueradeInterfaces(_ vmi: VirtualMachineInstance) throws -> [MasqueradeInterface] {
        let podNetworks = Dictionary((vmi.spec.networks ?? []).compactMap { network in network.pod.map { (network.name, $0) } },
                                     uniquingKeysWith: { first, _ in first })
        var found: [MasqueradeInterface] = []
        for interface in vmi.spec.domain.devices.interfaces ?? [] where interface.masquerade != nil {
            guard let network = podNetworks[interface.name] else { continue }
            var guestNetwork = PodWiring.Masquerade.defaultGuestNetwork
            if let text = network.vmNetworkCIDR, !text.isEmpty { guestNetwork = try IPv4CIDR(parsing: text) }
            let ports = interface.forwardedPorts.map { PodWiring.Masquerade.Port(transport: $0.transport.lowercased(), port: $0.port) }
            found.append(MasqueradeInterface(interface: interface, tap: "tap\(found.count)", guestNetwork: guestNetwork, ports: ports))
        }
        return found
    }

    public func detach(sandboxID: String) async throws {
        let path = namespacePath(sandboxID)
        await responder.stopAll(namespacePath: path)
        var failure: (any Error)?
        if let record = try records.read(sandboxID) {
            for index in record.attachments.indices.reversed() {
                let attachment = record.attachments[index]
                do {
                    try await cni.delete(attachment.configList, record.cniAttachment(index), prevResult: attachment.result)
                } catch {
                    failure = failure ?? error
                }
            }
        }
        try await namespaces.remove(at: path)
        // A record whose DEL failed stays, so the next detach (or the sweep) runs it again.
        if let failure { throw failure }
        try records.remove(sandboxID)
    }

    /// Detaches every sandbox with a record or a namespace here whose sandbox no longer runs: what an
    /// agent that stopped (or died) left of pods that went meanwhile.
    public func sweep(isRunning: @Sendable (String) async -> Bool) async {
        let recorded = Set(records.sandboxIDs())
        let pinned = Set(namespaces.list(in: configuration.namespaceDirectory).map { ($0 as NSString).lastPathComponent })
        for id in recorded.union(pinned).sorted() where await !isRunning(id) {
            try? await detach(sandboxID: id)
        }
    }

    /// A guest adopted after an agent restart: its namespace and interfaces are still there; only the DHCP
    /// answers (which lived in the agent) are given again.
    public func resume(_ vmi: VirtualMachineInstance, sandboxID: String) async throws {
        guard let record = try records.read(sandboxID), let result = record.attachments.first?.result else { return }
        let wiring = try Self.wiring(try Self.masqueradeInterfaces(vmi), podNetwork: result, namespacePath: record.namespacePath)
        try await serveGuests(vmi, wiring: wiring, path: record.namespacePath)
    }
}
