import VirtAPI

/// The node's rules for Services: one nftables table that carries each Service port's cluster IP (and,
/// for NodePort Services, the node port on every address of the node) to the ready endpoints, picked at
/// random per connection, and masquerades what it carried so replies come back through the node; a port
/// with no ready endpoint refuses connections at once. A pure
/// value rendered from the Services and their endpoints, applied as one `nft -f` transaction that
/// replaces the whole table (``ServiceRules/ruleset``).
public struct ServiceRules: Sendable, Equatable {
    /// One port of one Service.
    public struct Port: Sendable, Equatable {
        /// `tcp`, `udp` or `sctp`.
        public var transport: String
        public var port: Int
        public var nodePort: Int?
        /// `address:port` of each ready endpoint.
        public var endpoints: [(address: IPv4Address, port: Int)]

        public init(transport: String, port: Int, nodePort: Int? = nil, endpoints: [(address: IPv4Address, port: Int)]) {
            self.transport = transport
            self.port = port
            self.nodePort = nodePort
            self.endpoints = endpoints
        }

        public static func == (lhs: Port, rhs: Port) -> Bool {
            lhs.transport == rhs.transport && lhs.port == rhs.port && lhs.nodePort == rhs.nodePort
                && lhs.endpoints.map { "\($0.address):\($0.port)" } == rhs.endpoints.map { "\($0.address):\($0.port)" }
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

    public init(table: String, entries: [Entry]) {
        self.table = table
        self.entries = entries
    }

    /// The table name for a node: `swiftvirt_services_<node>`, other characters than letters and digits
    /// as `_`.
    public static func tableName(node: String) -> String {
        "swiftvirt_services_" + String(node.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// The ruleset: the table made if missing, deleted, and made again with every rule, in one transaction.
    public var ruleset: String {
        var services: [String] = []
        var chains: [String] = []
        var refused: [String] = []
        for entry in entries.sorted(by: { $0.service < $1.service }) {
            for port in entry.ports {
                let comment = "comment \"\(entry.service.replacingOccurrences(of: "\"", with: "")) \(port.port)/\(port.transport)\""
                guard !port.endpoints.isEmpty else {
                    // Nothing behind it: refused at once (port unreachable), as a closed port would be.
                    if let ip = entry.clusterIP { refused.append("ip daddr \(ip) \(port.transport) dport \(port.port) reject \(comment)") }
                    if let nodePort = port.nodePort { refused.append("fib daddr type local \(port.transport) dport \(nodePort) reject \(comment)") }
                    continue
                }
                let chain = "svc-\(chains.count)"
                if let ip = entry.clusterIP { services.append("ip daddr \(ip) \(port.transport) dport \(port.port) jump \(chain) \(comment)") }
                if let nodePort = port.nodePort { services.append("fib daddr type local \(port.transport) dport \(nodePort) jump \(chain) \(comment)") }
                let target: String
                if port.endpoints.count == 1, let only = port.endpoints.first {
                    target = "\(only.address):\(only.port)"
                } else {
                    let map = port.endpoints.enumerated().map { "\($0.offset) : \($0.element.address) . \($0.element.port)" }.joined(separator: ", ")
                    target = "numgen random mod \(port.endpoints.count) map { \(map) }"
                }
                chains.append("""
                        chain \(chain) {
                            ct mark set \(Self.mark)
                            meta l4proto \(port.transport) dnat to \(target)
                        }
                    """)
            }
        }
        var lines = [
            "table ip \(table)",
            "delete table ip \(table)",
            "table ip \(table) {",
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
        lines += services.map { "        " + $0 }
        lines.append("    }")
        if !refused.isEmpty {
            // Filter hooks see them undone by NAT: from pods (forward), from the node (output), to a node port (input).
            for hook in ["input", "forward", "output"] {
                lines += ["    chain filter-\(hook) {", "        type filter hook \(hook) priority -10; policy accept;", "        jump no-endpoints", "    }"]
            }
            lines.append("    chain no-endpoints {")
            lines += refused.map { "        " + $0 }
            lines.append("    }")
        }
        lines += chains
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The entries of `services` (Service objects) with the ready endpoints of their EndpointSlices.
    public static func entries(services: [JSONValue], slices: [JSONValue]) -> [Entry] {
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
            let ports: [Port] = (service[path: ["spec", "ports"]]?.arrayValue ?? []).compactMap { port in
                guard let number = port["port"]?.intValue, (1...65535).contains(number) else { return nil }
                let transport = (port["protocol"]?.stringValue ?? "TCP").lowercased()
                let name = port["name"]?.stringValue ?? ""
                var endpoints: [(address: IPv4Address, port: Int)] = []
                for slice in byService[key] ?? [] {
                    // The slice's port of the same name (and protocol) says where the endpoints listen.
                    let slicePort = (slice["ports"]?.arrayValue ?? []).first {
                        ($0["name"]?.stringValue ?? "") == name && ($0["protocol"]?.stringValue ?? "TCP").lowercased() == transport
                    }?["port"]?.intValue
                    guard let target = slicePort, (1...65535).contains(target) else { continue }
                    for endpoint in slice["endpoints"]?.arrayValue ?? [] where endpoint[path: ["conditions", "ready"]]?.boolValue != false {
                        for address in (endpoint["addresses"]?.arrayValue ?? []).compactMap({ $0.stringValue.flatMap { IPv4Address($0) } }) {
                            endpoints.append((address, Int(target)))
                        }
                    }
                }
                let nodePort = type == "ClusterIP" ? nil : port["nodePort"]?.intValue.flatMap { (1...65535).contains($0) ? Int($0) : nil }
                return Port(transport: transport, port: Int(number), nodePort: nodePort, endpoints: endpoints)
            }
            return Entry(service: key, clusterIP: type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer" ? clusterIP : nil, ports: ports)
        }
    }
}

extension JSONValue {
    fileprivate var namespaceValue: String { self[path: ["metadata", "namespace"]]?.stringValue ?? "default" }
    fileprivate func labelValue(_ key: String) -> String? { self[path: ["metadata", "labels", key]]?.stringValue }
}
