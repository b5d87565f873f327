import VirtAPI

/// The node's rules for Services: one nftables table that carries each Service port's cluster IP (and,
/// for NodePort Services, the node port on every address of the node) to the ready endpoints, picked at
/// random per connection, and masquerades what it carried so replies come back through the node; a port
/// with no ready endpoint refuses connections at once. A pure
/// value rendered from the Services and their endpoints, applied as one `nft -f` transaction that
/// replaces the whole table (``ServiceRules/ruleset``).
public struct ServiceRules: Sendable, Equatable {
    /// A ready endpoint of a port.
    public struct Endpoint: Sendable, Equatable {
        public var address: IPv4Address
        public var port: Int
        /// Whether it runs on this node (the slice's `nodeName`), for the `Local` traffic policies.
        public var local: Bool

        public init(address: IPv4Address, port: Int, local: Bool = true) {
            self.address = address
            self.port = port
            self.local = local
        }
    }

    /// One port of one Service.
    public struct Port: Sendable, Equatable {
        /// `tcp`, `udp` or `sctp`.
        public var transport: String
        public var port: Int
        public var nodePort: Int?
        public var endpoints: [Endpoint]
        /// `sessionAffinity: ClientIP`: how long a client stays with the endpoint it was given.
        public var affinitySeconds: Int?
        /// `internalTrafficPolicy: Local` (cluster IP) and `externalTrafficPolicy: Local` (node port):
        /// only this node's endpoints, and a node port's connections keep their source address.
        public var internalLocal = false
        public var externalLocal = false

        public init(transport: String, port: Int, nodePort: Int? = nil, endpoints: [Endpoint], affinitySeconds: Int? = nil) {
            self.transport = transport
            self.port = port
            self.nodePort = nodePort
            self.endpoints = endpoints
            self.affinitySeconds = affinitySeconds
        }
    }

    public struct Entry: Sendable, Equatable {
        /// `namespace/name`, for the rules' comments.
        public var service: String
        public var clusterIP: IPv4Address?
        public var ports: [Port]

        public init(service: String, clusterIP: IPv4Address?, ports: [Port]) {
            self.service = service
            self.clusterIP = clusterIP
            self.ports = ports
        }
    }

    /// The conntrack mark of connections the table carried, which it masquerades.
    public static let mark = "0x00005356"

    public var table: String
    public var entries: [Entry]
    /// The node's pod bridge: connections from its pods count as the node's own for the Local policies.
    public var podBridge: String?

    public init(table: String, entries: [Entry], podBridge: String? = nil) {
        self.table = table
        self.entries = entries
        self.podBridge = podBridge
    }

    /// The table name for a node: `swiftvirt_services_<node>`, other characters than letters and digits
    /// as `_`.
    public static func tableName(node: String) -> String {
        "swiftvirt_services_" + String(node.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// What the rendering collects: the `services` chain's jumps, the refusals, the chains and sets.
    private struct Rendering {
        var services: [String] = []
        var refused: [String] = []
        var chains: [String] = []
        var sets: [String] = []
        var chainNames: [String] = []
        var setNames: [String] = []

        /// A chain that carries connections to `endpoints` (none: drops them), marked for masquerading
        /// when `masquerade`, after the `first` lines; with `affinity`, a client that came within that many
        /// seconds goes to the endpoint it had.
        /// The sets are named from `identity` (the Service port) and the endpoint, so a client stays with
        /// its endpoint across changes to other Services and endpoints.
        mutating func chain(transport: String, endpoints: [Endpoint], masquerade: Bool, affinity: Int?, identity: String = "",
                            first: [String] = []) -> String {
            let name = "svc-\(chains.count)"
            var body = (masquerade ? ["ct mark set \(ServiceRules.mark)"] : []) + first
            func append(_ body: [String]) {
                chains.append("    chain \(name) {\n" + body.map { "        " + $0 }.joined(separator: "\n") + "\n    }")
                chainNames.append(name)
            }
            if endpoints.isEmpty {
                append(body + ["drop"])
                return name
            }
            if let affinity {
                var targets: [String] = []
                for (i, endpoint) in endpoints.enumerated() {
                    let hash = FNV1a.hash64("\(identity) \(endpoint.address):\(endpoint.port) \(affinity)")
                    let set = "client-" + String(String(hash, radix: 16).suffix(12))
                    if !setNames.contains(set) {
                        setNames.append(set)
                        sets.append("    set \(set) {\n        type ipv4_addr; flags dynamic,timeout; timeout \(affinity)s;\n    }")
                    }
                    body.append("ip saddr @\(set) goto \(name)-to-\(i)")
                    chainNames.append("\(name)-to-\(i)")
                    targets.append("""
                            chain \(name)-to-\(i) {
                                update @\(set) { ip saddr }
                                meta l4proto \(transport) dnat to \(endpoint.address):\(endpoint.port)
                            }
                        """)
                }
                if endpoints.count == 1 {
                    body.append("goto \(name)-to-0")
                } else {
                    let map = endpoints.indices.map { "\($0) : goto \(name)-to-\($0)" }.joined(separator: ", ")
                    body.append("numgen random mod \(endpoints.count) vmap { \(map) }")
                }
                append(body)
                chains += targets
                return name
            }
            let target: String
            if endpoints.count == 1, let only = endpoints.first {
                target = "\(only.address):\(only.port)"
            } else {
                let map = endpoints.enumerated().map { "\($0.offset) : \($0.element.address) . \($0.element.port)" }.joined(separator: ", ")
                target = "numgen random mod \(endpoints.count) map { \(map) }"
            }
            append(body + ["meta l4proto \(transport) dnat to \(target)"])
            return name
        }
    }

    /// The sysctl that lets a connection to a node port on 127.0.0.1, once DNAT'ed, leave by `bridge`
    /// (the kernel drops a loopback source on any other device without it).
    public static func localnetSysctl(bridge: String) -> String { "net/ipv4/conf/\(bridge)/route_localnet" }

    /// The ruleset: the table made if missing, deleted, and made again with every rule, in one transaction.
    public var ruleset: String {
        let rendered = render()
        return "table ip \(table)\ndelete table ip \(table)\n" + rendered.text
    }

    /// The ruleset that takes the table from `previous` (what was applied last) to this, in one
    /// transaction, without deleting the table: its rules are flushed and written again, chains and sets
    /// no longer used are deleted, and the affinity sets that stay keep their clients.
    public func ruleset(after previous: ServiceRules) -> String {
        let before = previous.render()
        let now = render()
        var lines = ["table ip \(table)", "flush table ip \(table)"]
        lines += before.chains.filter { !now.chains.contains($0) }.map { "delete chain ip \(table) \($0)" }
        lines += before.sets.filter { !now.sets.contains($0) }.map { "delete set ip \(table) \($0)" }
        return lines.joined(separator: "\n") + "\n" + now.text
    }

    /// The `table … { … }` block, and the names of its chains and sets.
    func render() -> (text: String, chains: [String], sets: [String]) {
        var rendering = Rendering()
        for entry in entries.sorted(by: { $0.service < $1.service }) {
            for port in entry.ports {
                let comment = "comment \"\(entry.service.replacingOccurrences(of: "\"", with: "")) \(port.port)/\(port.transport)\""
                let local = port.endpoints.filter(\.local)
                let identity = "\(entry.service) \(port.port)/\(port.transport)"
                // Every endpoint, masqueraded: the cluster IP's chain and the node port's, unless a Local
                // policy narrows one of them.
                var everyEndpoint: String?
                func cluster() -> String {
                    if let everyEndpoint { return everyEndpoint }
                    let name = rendering.chain(transport: port.transport, endpoints: port.endpoints, masquerade: true, affinity: port.affinitySeconds,
                                               identity: identity)
                    everyEndpoint = name
                    return name
                }
                var matches: [String] = []
                if let ip = entry.clusterIP { matches.append("ip daddr \(ip) \(port.transport) dport \(port.port)") }
                if let nodePort = port.nodePort { matches.append("fib daddr type local \(port.transport) dport \(nodePort)") }
                guard !port.endpoints.isEmpty else {
                    // Nothing behind it: refused at once (port unreachable), as a closed port would be.
                    rendering.refused += matches.map { "\($0) reject \(comment)" }
                    continue
                }
                if let ip = entry.clusterIP {
                    let chain = port.internalLocal
                        ? rendering.chain(transport: port.transport, endpoints: local, masquerade: true, affinity: port.affinitySeconds, identity: identity)
                        : cluster()
                    rendering.services.append("ip daddr \(ip) \(port.transport) dport \(port.port) jump \(chain) \(comment)")
                }
                if let nodePort = port.nodePort {
                    let chain: String
                    if port.externalLocal {
                        // The node itself and this node's pods go to any endpoint, masqueraded (a local
                        // endpoint could not answer them otherwise); clients from outside to this node's
                        // endpoints only, keeping their address, and are dropped when there is none.
                        let via = cluster()
                        let first = ["fib saddr type local goto \(via)"] + (podBridge.map { ["iifname \"\($0)\" goto \(via)"] } ?? [])
                        chain = rendering.chain(transport: port.transport, endpoints: local, masquerade: false, affinity: port.affinitySeconds,
                                                identity: identity, first: first)
                    } else {
                        chain = cluster()
                    }
                    rendering.services.append("fib daddr type local \(port.transport) dport \(nodePort) jump \(chain) \(comment)")
                }
            }
        }
        var lines = ["table ip \(table) {"]
        var chainNames = ["prerouting", "output", "postrouting", "services", "filter-input"]
        lines += rendering.sets
        lines += [
            "    chain prerouting {",
            "        type nat hook prerouting priority -100; policy accept;",
            "        jump services",
            "    }",
            "    chain output {",
            "        type nat hook output priority -100; policy accept;",
            "        jump services",
            "    }",
            "    chain postrouting {",
            "        type nat hook postrouting priority 100; policy accept;",
            "        ct mark \(Self.mark) masquerade",
            "    }",
            "    chain services {",
        ]
        lines += rendering.services.map { "        " + $0 }
        lines.append("    }")
        // A node port on 127.0.0.1 needs `route_localnet` on the pod bridge (``ServiceRules/localnetSysctl``),
        // which would let pods reach the node's loopback services too: only what this table carried there
        // (DNAT) may come from outside to 127.0.0.0/8.
        lines += ["    chain filter-input {", "        type filter hook input priority -10; policy accept;",
                  "        iifname != \"lo\" ip daddr 127.0.0.0/8 ct state new,invalid ct status & dnat == 0 drop"]
        if !rendering.refused.isEmpty { lines.append("        jump no-endpoints") }
        lines.append("    }")
        if !rendering.refused.isEmpty {
            // Nothing behind them: refused at once (port unreachable), as a closed port would be. The filter
            // hooks see them undone by NAT: from pods (forward), from the node (output), to a node port (input).
            for hook in ["forward", "output"] {
                lines += ["    chain filter-\(hook) {", "        type filter hook \(hook) priority -10; policy accept;", "        jump no-endpoints", "    }"]
            }
            lines.append("    chain no-endpoints {")
            lines += rendering.refused.map { "        " + $0 }
            lines.append("    }")
            chainNames += ["filter-forward", "filter-output", "no-endpoints"]
        }
        lines += rendering.chains
        lines.append("}")
        return (lines.joined(separator: "\n") + "\n", chainNames + rendering.chainNames, rendering.setNames)
    }

    /// The entries of `services` (Service objects) with the ready endpoints of their EndpointSlices;
    /// an endpoint is local when its `nodeName` is `node` (every one, without a `node`).
    public static func entries(services: [JSONValue], slices: [JSONValue], node: String? = nil) -> [Entry] {
        var byService: [String: [JSONValue]] = [:]
        for slice in slices {
            guard let name = slice.labelValue("kubernetes.io/service-name") else { continue }
            byService["\(slice.namespaceValue)/\(name)", default: []].append(slice)
        }
        return services.compactMap { service -> Entry? in
            guard let name = service[path: ["metadata", "name"]]?.stringValue else { return nil }
            let key = "\(service.namespaceValue)/\(name)"
            let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
            guard type != "ExternalName" else { return nil }
            let clusterIP = service[path: ["spec", "clusterIP"]]?.stringValue.flatMap { IPv4Address($0) }
            var affinity: Int?
            if service[path: ["spec", "sessionAffinity"]]?.stringValue == "ClientIP" {
                let seconds = service[path: ["spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"]]?.intValue ?? Int64(ServiceNames.defaultAffinitySeconds)
                affinity = Int(min(max(seconds, 1), 86400))
            }
            let ports: [Port] = (service[path: ["spec", "ports"]]?.arrayValue ?? []).compactMap { port in
                guard let number = port["port"]?.intValue, (1...65535).contains(number) else { return nil }
                let transport = (port["protocol"]?.stringValue ?? "TCP").lowercased()
                let name = port["name"]?.stringValue ?? ""
                var endpoints: [Endpoint] = []
                for slice in byService[key] ?? [] {
                    // The slice's port of the same name (and protocol) says where the endpoints listen.
                    let slicePort = (slice["ports"]?.arrayValue ?? []).first {
                        ($0["name"]?.stringValue ?? "") == name && ($0["protocol"]?.stringValue ?? "TCP").lowercased() == transport
                    }?["port"]?.intValue
                    guard let target = slicePort, (1...65535).contains(target) else { continue }
                    for endpoint in slice["endpoints"]?.arrayValue ?? [] where endpoint[path: ["conditions", "ready"]]?.boolValue != false {
                        let local = node == nil || endpoint["nodeName"]?.stringValue == node
                        for address in (endpoint["addresses"]?.arrayValue ?? []).compactMap({ $0.stringValue.flatMap { IPv4Address($0) } }) {
                            endpoints.append(Endpoint(address: address, port: Int(target), local: local))
                        }
                    }
                }
                let nodePort = type == "ClusterIP" ? nil : port["nodePort"]?.intValue.flatMap { (1...65535).contains($0) ? Int($0) : nil }
                var entry = Port(transport: transport, port: Int(number), nodePort: nodePort, endpoints: endpoints, affinitySeconds: affinity)
                entry.internalLocal = service[path: ["spec", "internalTrafficPolicy"]]?.stringValue == "Local"
                entry.externalLocal = nodePort != nil && service[path: ["spec", "externalTrafficPolicy"]]?.stringValue == "Local"
                return entry
            }
            return Entry(service: key, clusterIP: type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer" ? clusterIP : nil, ports: ports)
        }
    }
}

extension JSONValue {
    fileprivate var namespaceValue: String { self[path: ["metadata", "namespace"]]?.stringValue ?? "default" }
    fileprivate func labelValue(_ key: String) -> String? { self[path: ["metadata", "labels", key]]?.stringValue }
}
