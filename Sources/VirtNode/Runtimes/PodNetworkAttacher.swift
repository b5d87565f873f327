import Foundation
import Synchronization
import VirtAPI
import VirtError
import VirtNetwork
import VirtOS
import VirtQEMU

/// The pod network as the node gives it: every launcher pod gets a network namespace of its own, pinned
/// at `namespaceDirectory/<sandbox>` before its sandbox starts, with `eth0` on the node's bridge through
/// the real CNI `bridge` plugin and `host-local` addresses from the Node's `spec.podCIDR` (or, with a
/// Multus network marked `default`, that network's plugins), then each Multus network of the VMI as net1,
/// net2 … through its NetworkAttachmentDefinition's plugins. A VM interface bound with `masquerade` is
/// wired behind NAT inside the namespace (``PodWiring/masquerade(_:)``); one bound with `bridge` takes
/// over its pod interface's MAC and address (``PodWiring/bridge(_:)``). The guests get their addresses
/// from the agent's DHCP responder.
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

    /// A NetworkAttachmentDefinition by namespace and name; nil when there is none.
    public typealias DefinitionLookup = @Sendable (_ namespace: String, _ name: String) async throws -> NetworkAttachmentDefinition?

    let configuration: Configuration
    let cni: CNIRuntime
    let namespaces: NetworkNamespaces
    let records: AttachmentRecordStore
    let responder: DHCPResponder
    let runner: any CommandRunner
    /// The node's pod subnet (its Node's `spec.podCIDR`); throws while it has none.
    let podCIDR: @Sendable () async throws -> IPv4CIDR
    /// Where the Multus networks' definitions come from.
    let definitions: DefinitionLookup
    /// The subnet whose outbound NAT is in place.
    let masqueraded = Masqueraded()

    final class Masqueraded: Sendable {
        let subnet = Mutex<IPv4CIDR?>(nil)
    }

    public init(configuration: Configuration, responder: DHCPResponder = DHCPResponder(), runner: any CommandRunner = ProcessRunner(),
                podCIDR: @escaping @Sendable () async throws -> IPv4CIDR, definitions: @escaping DefinitionLookup = { _, _ in nil }) {
        self.configuration = configuration
        self.cni = CNIRuntime(runner: runner)
        self.namespaces = NetworkNamespaces(runner: runner)
        self.records = AttachmentRecordStore(directory: configuration.recordDirectory)
        self.responder = responder
        self.runner = runner
        self.podCIDR = podCIDR
        self.definitions = definitions
    }

    func namespacePath(_ sandboxID: String) -> String { configuration.namespaceDirectory + "/" + sandboxID }

    /// The pod network's configuration list: the node bridge as the pods' gateway, with hairpin so a pod
    /// reaches itself through a Service address. What leaves the pod subnet is masqueraded by one rule
    /// for the whole node (``podMasquerade(_:bridge:)``) rather than the plugin's `ipMasq`, whose
    /// iptables chain per pod costs about 10 ms of every ADD and more of every DEL.
    func podNetworkList(_ subnet: IPv4CIDR) throws -> CNINetworkConfigList {
        let config: JSONValue = [
            "cniVersion": "1.0.0", "name": .string(NetworkNames.podNetwork),
            "plugins": [[
                "type": "bridge", "bridge": .string(configuration.bridge), "isGateway": true, "hairpinMode": true,
                "ipam": [
                    "type": "host-local", "ranges": [[["subnet": .string(subnet.description)]]],
                    "routes": [["dst": "0.0.0.0/0"]], "dataDir": .string(configuration.addressDirectory),
                ],
            ]],
        ]
        return try CNINetworkConfigList(json: config)
    }

    public func attach(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> NetworkAttachment {
        let bindings = try Self.bindings(vmi)
        guard !bindings.isEmpty else { return NetworkAttachment() }
        // Every definition is read and checked before anything is made: a missing one leaves nothing to undo.
        let networks = try await plannedNetworks(vmi, sandboxID: sandboxID)
        let path = namespacePath(sandboxID)
        // What an earlier attempt for this sandbox left.
        try await detach(sandboxID: sandboxID)
        try await namespaces.create(at: path)
        var record = AttachmentRecord(sandboxID: sandboxID, namespacePath: path)
        let commands = NamespacedCommands(namespacePath: path, runner: runner)
        // The masquerade NAT names interfaces only, not what the plugins give them: it is loaded while the
        // plugins run (an nft transaction takes some 15 ms of the kernel's time, about as long as the ADDs).
        let early = Self.earlyRuleset(bindings)
        async let loaded: Void = Self.load(early, commands)
        do {
            for network in networks {
                record.attachments.append(network)
                try records.write(record)
                let index = record.attachments.count - 1
                record.attachments[index].result = try await cni.add(network.configList, record.cniAttachment(index))
                try records.write(record)
            }
            try await loaded
            var podMACs = Self.podInterfaceMACs(record)
            let live = try await Self.liveLinks(bindings, record: record, podMACs: podMACs, commands)
            for binding in bindings where binding.method == .bridge && podMACs[binding.podInterface] == nil {
                guard let mac = live.macs[binding.podInterface] else {
                    throw VirtError(.internal, "the pod interface \(binding.podInterface) has no MAC address to give the guest (neither its plugin's result nor the link has one)")
                }
                podMACs[binding.podInterface] = mac
            }
            let wiring = try Self.wiring(bindings, record: record, podMACs: podMACs, podMTUs: live.mtus)
            try await commands.ip(wiring.ipCommands)
            try await commands.sysctl(wiring.sysctls.map { ($0.key, $0.value) })
            try await commands.tc(wiring.tcCommands)
            if !wiring.nftRuleset.isEmpty && wiring.nftRuleset != early { try await commands.nft(wiring.nftRuleset) }
            let guestMACs = Self.guestMACs(vmi, bindings: bindings, podMACs: podMACs)
            try await serveGuests(vmi, wiring: wiring, guestMACs: guestMACs, path: path)
            return Self.attachment(bindings: bindings, record: record, wiring: wiring, guestMACs: guestMACs)
        } catch {
            try? await detach(sandboxID: sandboxID)
            throw error
        }
    }

    /// The networks to ADD, in order: the pod's `eth0` (the pod network, or the Multus network marked
    /// `default`), then each Multus network as net1, net2 ….
    func plannedNetworks(_ vmi: VirtualMachineInstance, sandboxID: String) async throws -> [AttachmentRecord.Attachment] {
        let namespace = vmi.metadata?.namespace ?? "default"
        var args: [CNIAttachment.Argument] = [
            .init("IgnoreUnknown", "true"), .init("K8S_POD_NAMESPACE", namespace), .init("K8S_POD_INFRA_CONTAINER_ID", sandboxID),
        ]
        // The sandbox is `<namespace>_<pod>`: plugins that keep pod references (whereabouts) want the name.
        if sandboxID.hasPrefix(namespace + "_") { args.insert(.init("K8S_POD_NAME", String(sandboxID.dropFirst(namespace.count + 1))), at: 2) }
        var planned: [AttachmentRecord.Attachment] = []
        if let reference = MultusNetworkSelection.defaultNetwork(of: vmi.spec, namespace: namespace) {
            let (nadNamespace, name) = MultusNetworkSelection.split(reference, namespace: namespace)
            planned.append(.init(network: reference, ifName: NetworkNames.podInterface,
                                 configList: try await configList(namespace: nadNamespace, name: name), args: args))
        } else {
            let subnet = try await podCIDR()
            try await masqueradePods(subnet)
            planned.append(.init(network: NetworkNames.podNetwork, ifName: NetworkNames.podInterface,
                                 configList: try podNetworkList(subnet), args: args))
        }
        let interfaces = vmi.spec.domain.devices.interfaces ?? []
        for selection in MultusNetworkSelection.selections(of: vmi.spec, namespace: namespace) {
            var capabilities: [String: JSONValue] = [:]
            if let mac = interfaces.first(where: { $0.name == selection.network })?.macAddress {
                capabilities["mac"] = .string(mac)
            }
            planned.append(.init(network: "\(selection.namespace)/\(selection.name)", ifName: selection.interface,
                                 configList: try await configList(namespace: selection.namespace, name: selection.name),
                                 args: args, capabilityArgs: capabilities))
        }
        return planned
    }

    /// The node's rule that masquerades what pods of `subnet` send off the pod bridge, made once per
    /// agent (and subnet): an nft table of its own, replaced in one transaction.
    func masqueradePods(_ subnet: IPv4CIDR) async throws {
        guard masqueraded.subnet.withLock({ $0 }) != subnet else { return }
        let ruleset = Self.podMasquerade(subnet, bridge: configuration.bridge)
        let result = try await runner.run("nft", ["-f", "-"], environment: ["PATH": CNIRuntime.Configuration.defaultSearchPath], input: Array(ruleset.utf8))
        guard result.exitCode == 0 else {
            throw VirtError(.internal, "cannot set up the pods' outbound NAT (nft -f): \(NamespacedCommands.text(result))")
        }
        masqueraded.subnet.withLock { $0 = subnet }
    }

    /// The table `swiftvirt_pods_<bridge>`: what comes from `subnet` and leaves by another device than
    /// the bridge, to anything but the subnet and multicast, is masqueraded (as the bridge plugin's `ipMasq`).
    static func podMasquerade(_ subnet: IPv4CIDR, bridge: String) -> String {
        let table = "swiftvirt_pods_" + String(bridge.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        let device = bridge.filter { $0 != "\"" }
        return """
            table ip \(table)
            delete table ip \(table)
            table ip \(table) {
                chain postrouting {
                    type nat hook postrouting priority 100; policy accept;
                    ip saddr \(subnet) ip daddr != \(subnet) ip daddr != 224.0.0.0/4 oifname != "\(device)" masquerade
                }
            }

            """
    }

    /// The CNI configuration of a NetworkAttachmentDefinition, its `name` taken from the definition when
    /// the config has none (as Multus does) and its `cniVersion` 1.0.0 when it names none. Errors say
    /// which definition and what to fix.
    func configList(namespace: String, name: String) async throws -> CNINetworkConfigList {
        guard let definition = try await definitions(namespace, name) else {
            throw VirtError(.notFound, "NetworkAttachmentDefinition \(namespace)/\(name) does not exist; create it (apiVersion k8s.cni.cncf.io/v1) or fix the network's multus.networkName")
        }
        return try Self.configList(of: definition, namespace: namespace, name: name)
    }

    static func configList(of definition: NetworkAttachmentDefinition, namespace: String, name: String) throws -> CNINetworkConfigList {
        let what = "NetworkAttachmentDefinition \(namespace)/\(name)"
        guard let text = definition.spec?.config, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw VirtError(.invalid, "\(what) has no spec.config; put the network's CNI configuration (JSON, one plugin or a plugins list) there")
        }
        do {
            var value = try JSONValue.parse(Array(text.utf8))
            if case .object(var members) = value {
                if members["name"] == nil { members["name"] = .string(name) }
                // Admission takes a config without a version, as upstream does; the plugins are given 1.0.0.
                if members["cniVersion"] == nil { members["cniVersion"] = "1.0.0" }
                value = .object(members)
            }
            return try CNINetworkConfigList(json: value)
        } catch let error as CNIError {
            throw VirtError(.invalid, "\(what): spec.config: \(error)", cause: error)
        } catch {
            throw VirtError(.invalid, "\(what): spec.config is not JSON: \((error as? VirtError)?.message ?? "\(error)")", cause: error)
        }
    }

    /// How one VM interface reaches its network.
    struct Binding: Equatable {
        enum Method: Equatable {
            case masquerade
            case bridge
        }

        var interface: Interface
        /// The pod interface it sits on (eth0, net1 …).
        var podInterface: String
        var method: Method
        var tap: String
        /// Masquerade only: the guest's network and the ports forwarded.
        var guestNetwork = PodWiring.Masquerade.defaultGuestNetwork
        var ports: [PodWiring.Masquerade.Port] = []
    }

    /// The interfaces of `vmi` that get a tap, in spec order: masquerade ones on the pod network, bridge
    /// ones on the pod network or a Multus network. Each interface's tap is `tap<position>`.
    static func bindings(_ vmi: VirtualMachineInstance) throws -> [Binding] {
        let namespace = vmi.metadata?.namespace ?? "default"
        var podInterfaces: [String: String] = [:]
        var networks: [String: Network] = [:]
        for network in vmi.spec.networks ?? [] where networks[network.name] == nil {
            networks[network.name] = network
            if network.pod != nil || network.multus?.default == true { podInterfaces[network.name] = NetworkNames.podInterface }
        }
        for selection in MultusNetworkSelection.selections(of: vmi.spec, namespace: namespace) {
            podInterfaces[selection.network] = selection.interface
        }
        var found: [Binding] = []
        for (i, interface) in (vmi.spec.domain.devices.interfaces ?? []).enumerated() {
            guard let network = networks[interface.name], let podInterface = podInterfaces[interface.name] else { continue }
            if interface.masquerade != nil {
                guard let pod = network.pod else {
                    throw VirtError(.invalid, "spec.domain.devices.interfaces[\(i)].masquerade: network \(interface.name) is a Multus network, and masquerade works on the pod network only; bind it with bridge: {}")
                }
                var binding = Binding(interface: interface, podInterface: podInterface, method: .masquerade, tap: "tap\(i)")
                if let text = pod.vmNetworkCIDR, !text.isEmpty { binding.guestNetwork = try IPv4CIDR(parsing: text) }
                binding.ports = interface.forwardedPorts.map { PodWiring.Masquerade.Port(transport: $0.transport.lowercased(), port: $0.port) }
                found.append(binding)
            } else if interface.bridge != nil {
                found.append(Binding(interface: interface, podInterface: podInterface, method: .bridge, tap: "tap\(i)"))
            }
        }
        return found
    }

    /// The in-pod nftables ruleset of `bindings` as far as it is known before any ADD: the masquerade
    /// NAT, which depends on the interfaces' names, the guest network and the ports only.
    static func earlyRuleset(_ bindings: [Binding]) -> String {
        let masquerades = bindings.filter { $0.method == .masquerade }.map { binding in
            PodWiring.Masquerade(interfaceName: binding.interface.name, podInterface: binding.podInterface, tap: binding.tap,
                                 guestNetwork: binding.guestNetwork, ports: binding.ports)
        }
        return (try? PodWiring.masquerade(masquerades))?.nftRuleset ?? ""
    }

    static func load(_ ruleset: String, _ commands: NamespacedCommands) async throws {
        if !ruleset.isEmpty { try await commands.nft(ruleset) }
    }

    /// The pod interfaces' MACs as their ADD results give them.
    static func podInterfaceMACs(_ record: AttachmentRecord) -> [String: String] {
        var macs: [String: String] = [:]
        for attachment in record.attachments {
            if let mac = attachment.result?.interface(named: attachment.ifName, inSandbox: record.namespacePath)?.mac.flatMap(QEMUCommand.normalizedMAC) {
                macs[attachment.ifName] = mac
            }
        }
        return macs
    }

    /// What the ADD results leave out of the bound pod interfaces, read from the links in one `ip -j link
    /// show`: the MTU (most plugins' results have none; a macvlan or host-device NIC on a network of MTU
    /// 9000 or 1450 gives the guest that) and, for a bridge binding, the MAC (host-device's result can
    /// lack it). The pod network's veths are the bridge plugin's default 1500 (its config names no MTU)
    /// and are not read; nothing missing, nothing is run.
    static func liveLinks(_ bindings: [Binding], record: AttachmentRecord, podMACs: [String: String],
                          _ commands: NamespacedCommands) async throws -> (mtus: [String: Int], macs: [String: String]) {
        let noMTU = Set(bindings.map(\.podInterface).filter { name in
            guard let attachment = record.attachments.first(where: { $0.ifName == name }), attachment.network != NetworkNames.podNetwork else { return false }
            return attachment.result?.interface(named: name, inSandbox: record.namespacePath)?.mtu == nil
        })
        let noMAC = Set(bindings.filter { $0.method == .bridge && podMACs[$0.podInterface] == nil }.map(\.podInterface))
        guard !noMTU.isEmpty || !noMAC.isEmpty else { return ([:], [:]) }
        let result = try await commands.run("ip", ["-j", "link", "show"])
        guard result.exitCode == 0 else {
            throw VirtError(.internal, "cannot read the pod's links: \(NamespacedCommands.text(result))")
        }
        let links = linkFacts(result.stdout)
        return (links.mtus.filter { noMTU.contains($0.key) }, links.macs.filter { noMAC.contains($0.key) })
    }

    /// `ifname` → `mtu` and → MAC of the links of `ip -j link show`; malformed output or values give none.
    static func linkFacts(_ json: [UInt8]) -> (mtus: [String: Int], macs: [String: String]) {
        var mtus: [String: Int] = [:]
        var macs: [String: String] = [:]
        for link in (try? JSONValue.parse(json))?.arrayValue ?? [] {
            guard let name = link["ifname"]?.stringValue else { continue }
            if let mtu = link["mtu"]?.intValue, (68...65535).contains(mtu) { mtus[name] = Int(mtu) }
            if let mac = link["address"]?.stringValue.flatMap(QEMUCommand.normalizedMAC) { macs[name] = mac }
        }
        return (mtus, macs)
    }

    /// The guest's MAC of each interface: the VMI's `macAddress`, else (bridge) the pod interface's, else
    /// the generated one.
    static func guestMACs(_ vmi: VirtualMachineInstance, bindings: [Binding], podMACs: [String: String]) -> [String: String] {
        let identity = vmi.spec.domain.firmware?.uuid ?? vmi.metadata?.uid ?? ""
        var macs: [String: String] = [:]
        for binding in bindings {
            if let given = binding.interface.macAddress.flatMap(QEMUCommand.normalizedMAC) {
                macs[binding.interface.name] = given
            } else if binding.method == .bridge, let mac = podMACs[binding.podInterface] {
                macs[binding.interface.name] = mac
            } else {
                macs[binding.interface.name] = QEMUCommand.generatedMACAddress(vmiUID: identity, interfaceName: binding.interface.name)
            }
        }
        return macs
    }

    /// The in-pod wiring of `bindings`, from the ADD results in `record`: each interface at its pod
    /// interface's MTU; a bridge interface over a macvlan or ipvlan plugin is mirrored rather than bridged.
    static func wiring(_ bindings: [Binding], record: AttachmentRecord, podMACs: [String: String], podMTUs: [String: Int] = [:]) throws -> PodWiring {
        var masquerades: [PodWiring.Masquerade] = []
        var bridges: [PodWiring.Bridge] = []
        for binding in bindings {
            guard let attachment = record.attachments.first(where: { $0.ifName == binding.podInterface }), let result = attachment.result else {
                throw VirtError(.internal, "interface \(binding.interface.name): the pod interface \(binding.podInterface) was not attached")
            }
            let mtu = result.interface(named: binding.podInterface, inSandbox: record.namespacePath)?.mtu ?? podMTUs[binding.podInterface] ?? 1500
            switch binding.method {
            case .masquerade:
                masquerades.append(PodWiring.Masquerade(interfaceName: binding.interface.name, podInterface: binding.podInterface, tap: binding.tap,
                                                        mtu: mtu, guestNetwork: binding.guestNetwork, ports: binding.ports))
            case .bridge:
                let type = attachment.configList.plugins.first?.type ?? ""
                let mirrored = type == "macvlan" || type == "ipvlan"
                let podMAC = podMACs[binding.podInterface]
                let given = binding.interface.macAddress.flatMap(QEMUCommand.normalizedMAC)
                if type == "ipvlan", let given, given != podMAC {
                    throw VirtError(.invalid, "interface \(binding.interface.name): an ipvlan network shares its parent's MAC \(podMAC ?? ""), so the guest cannot have macAddress \(given); remove macAddress")
                }
                let newPodMAC: String? = mirrored
                    ? (given != nil && given != podMAC ? given : nil)
                    : QEMUCommand.generatedMACAddress(vmiUID: record.sandboxID, interfaceName: "pod/" + binding.podInterface)
                bridges.append(PodWiring.Bridge(
                    interfaceName: binding.interface.name, podInterface: binding.podInterface, tap: binding.tap, mtu: mtu,
                    joint: type == "ipvlan" ? .mirrorKeepingAddress : mirrored ? .mirror : .bridge, podInterfaceMAC: newPodMAC,
                    guest: PodWiring.Bridge.Address(result: result, podInterface: binding.podInterface, sandbox: record.namespacePath),
                    position: bridges.count))
            }
        }
        var wiring = try PodWiring.masquerade(masquerades)
        wiring.merge(PodWiring.bridge(bridges))
        return wiring
    }

    /// What the launch gets: each interface's tap (with the guest's MAC for bridge interfaces), the pod's
    /// addresses, where each interface landed and the pod's network-status.
    static func attachment(bindings: [Binding], record: AttachmentRecord, wiring: PodWiring, guestMACs: [String: String]) -> NetworkAttachment {
        var attachment = NetworkAttachment(namespacePath: record.namespacePath)
        func hosts(_ ifName: String) -> [String] {
            guard let result = record.attachments.first(where: { $0.ifName == ifName })?.result else { return [] }
            return result.addresses(ofInterface: ifName, inSandbox: record.namespacePath).map(\.host)
        }
        attachment.podIPs = hosts(NetworkNames.podInterface)
        for binding in bindings {
            guard let tap = wiring.taps[binding.interface.name] else { continue }
            let mac = guestMACs[binding.interface.name]
            attachment.backends[binding.interface.name] = .tap(device: tap, mac: binding.method == .bridge ? mac : nil)
            attachment.interfaces[binding.interface.name] = AttachedInterface(
                podInterfaceName: binding.podInterface, mac: mac ?? "", ipAddresses: hosts(binding.podInterface))
        }
        attachment.networkStatus = networkStatus(record)
        return attachment
    }

    /// `k8s.v1.cni.cncf.io/network-status`: per attachment its network, pod interface, addresses, MAC and
    /// DNS, the first marked `default`, as Multus writes it.
    static func networkStatus(_ record: AttachmentRecord) -> String {
        JSONValue.array(record.attachments.enumerated().map { index, attachment -> JSONValue in
            var entry: [String: JSONValue] = ["name": .string(attachment.network), "interface": .string(attachment.ifName)]
            if let result = attachment.result {
                let ips = result.addresses(ofInterface: attachment.ifName, inSandbox: record.namespacePath).map(\.host)
                if !ips.isEmpty { entry["ips"] = .array(ips.map { .string($0) }) }
                if let mac = result.interface(named: attachment.ifName, inSandbox: record.namespacePath)?.mac { entry["mac"] = .string(mac) }
                var dns: [String: JSONValue] = [:]
                if !result.dns.nameservers.isEmpty { dns["nameservers"] = .array(result.dns.nameservers.map { .string($0) }) }
                if let domain = result.dns.domain { dns["domain"] = .string(domain) }
                if !result.dns.search.isEmpty { dns["search"] = .array(result.dns.search.map { .string($0) }) }
                entry["dns"] = .object(dns)
            }
            if index == 0 { entry["default"] = true }
            return .object(entry)
        }).serialized()
    }

    /// The DHCP answers for each guest interface of `wiring`.
    func serveGuests(_ vmi: VirtualMachineInstance, wiring: PodWiring, guestMACs: [String: String], path: String) async throws {
        for interface in vmi.spec.domain.devices.interfaces ?? [] {
            guard let guest = wiring.guestAddresses[interface.name] else { continue }
            guard let macText = guestMACs[interface.name], let mac = DHCPHardwareAddress(macText) else {
                throw VirtError(.invalid, "interface \(interface.name): macAddress \(interface.macAddress ?? "") is not a MAC address")
            }
            let lease = DHCPLease(
                address: guest.address, prefixLength: guest.prefixLength, serverAddress: guest.server, router: guest.router,
                dnsServers: guest.dnsServers.isEmpty ? configuration.dnsServers.compactMap { IPv4Address($0) } : guest.dnsServers,
                searchDomains: configuration.searchDomains, hostname: Self.hostname(vmi), mtu: guest.mtu,
                extraOptions: try DHCPLease.options(kubeVirtDHCPOptions: interface.dhcpOptions))
            try await responder.serve(lease: lease, clientMAC: mac, device: guest.device, namespacePath: path)
        }
    }

    /// The guest's host name: the VMI's `hostname`, else its name (as the pod's).
    static func hostname(_ vmi: VirtualMachineInstance) -> String? {
        vmi.spec.hostname ?? vmi.metadata?.name
    }

    public func detach(sandboxID: String) async throws {
        let path = namespacePath(sandboxID)
        await responder.stopAll(namespacePath: path)
        var failure: (any Error)?
        if let record = try records.read(sandboxID) {
            // A bridged pod interface wears a derived MAC; a host-device NIC goes back to the node with the
            // one it came with (its plugin restores the name and namespace only).
            let restore = record.attachments.compactMap { attachment -> String? in
                guard let mac = attachment.result?.interface(named: attachment.ifName, inSandbox: record.namespacePath)?.mac else { return nil }
                return "link set dev \(attachment.ifName) address \(mac)"
            }
            if !restore.isEmpty, FileManager.default.fileExists(atPath: path) {
                _ = try? await NamespacedCommands(namespacePath: path, runner: runner)
                    .run("ip", ["-force", "-batch", "-"], input: Array((restore.joined(separator: "\n") + "\n").utf8))
            }
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
    /// answers (which lived in the agent) are given again. A pod interface whose MAC the ADD result left out
    /// is known by the MAC the VMI reports for its guest.
    public func resume(_ vmi: VirtualMachineInstance, sandboxID: String) async throws {
        guard let record = try records.read(sandboxID), record.attachments.first?.result != nil else { return }
        let bindings = try Self.bindings(vmi)
        var podMACs = Self.podInterfaceMACs(record)
        for binding in bindings where podMACs[binding.podInterface] == nil {
            if let reported = vmi.status?.interfaces?.first(where: { $0.name == binding.interface.name })?.mac { podMACs[binding.podInterface] = reported }
        }
        let commands = NamespacedCommands(namespacePath: record.namespacePath, runner: runner)
        let podMTUs = (try? await Self.liveLinks(bindings, record: record, podMACs: podMACs, commands))?.mtus ?? [:]
        let wiring = try Self.wiring(bindings, record: record, podMACs: podMACs, podMTUs: podMTUs)
        try await serveGuests(vmi, wiring: wiring, guestMACs: Self.guestMACs(vmi, bindings: bindings, podMACs: podMACs), path: record.namespacePath)
    }
}
