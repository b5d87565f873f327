import VirtAPI

/// A plugin's ADD result (CNI 1.0 shape; 0.3.x and 0.4.0 results, whose `ips` carry a `version`, read
/// the same). The JSON is kept exactly as the plugin printed it (`json`), so storing it and passing it
/// on as the next plugin's `prevResult` loses nothing; the typed members are read from it.
public struct CNIResult: Sendable, Equatable, Hashable {
    /// An interface the plugin created or configured.
    public struct Interface: Sendable, Equatable, Hashable {
        public var name: String
        public var mac: String?
        public var mtu: Int?
        /// The network namespace path (CNI_NETNS) when the interface is in the container; nil on the host.
        public var sandbox: String?

        public init(name: String, mac: String? = nil, mtu: Int? = nil, sandbox: String? = nil) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
        }
    }

    /// An address assigned to an interface.
    public struct IP: Sendable, Equatable, Hashable {
        /// CIDR form: `10.244.0.5/24`.
        public var address: String
        public var gateway: String?
        /// Index into `interfaces`.
        public var interface: Int?

        public init(address: String, gateway: String? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }

        /// The address without its prefix length.
        public var host: String { String(address.split(separator: "/", maxSplits: 1).first ?? "") }
        /// The prefix length (24 in `10.244.0.5/24`).
        public var prefixLength: Int? { address.split(separator: "/").dropFirst().first.flatMap { Int($0) } }
    }

    public struct Route: Sendable, Equatable, Hashable {
        public var dst: String
        public var gw: String?
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        public var scope: Int?

        public init(dst: String, gw: String? = nil, mtu: Int? = nil, advmss: Int? = nil, priority: Int? = nil, table: Int? = nil, scope: Int? = nil) {
            self.dst = dst
            self.gw = gw
            self.mtu = mtu
            self.advmss = advmss
            self.priority = priority
            self.table = table
            self.scope = scope
        }
    }

    public struct DNS: Sendable, Equatable, Hashable {
        public var nameservers: [String]
        public var domain: String?
        public var search: [String]
        public var options: [String]

        public init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
            self.options = options
        }

        public var isEmpty: Bool { nameservers.isEmpty && domain == nil && search.isEmpty && options.isEmpty }
    }

    public let cniVersion: String
    public let interfaces: [Interface]
    public let ips: [IP]
    public let routes: [Route]
    public let dns: DNS
    /// The result as the plugin printed it (unknown fields kept).
    public let json: JSONValue

    /// Reads a result. Results of CNI 0.1.0/0.2.0 (`ip4`/`ip6`) are refused.
    public init(json: JSONValue) throws(CNIError) {
        let fail: (String, String) -> CNIError = { .badResult(type: nil, detail: $0.isEmpty ? $1 : "\($0) \($1)") }
        let top = try CNIFieldReader(json, at: "", failure: fail)
        cniVersion = try top.requiredString("cniVersion")
        if !CNIError.supportedVersions.contains(cniVersion) || top.value("ip4") != nil || top.value("ip6") != nil {
            throw .unsupportedVersion(version: cniVersion, field: "the result's cniVersion", supported: CNIError.supportedVersions)
        }
        interfaces = try top.objects("interfaces").map { reader throws(CNIError) in
            Interface(name: try reader.requiredString("name"), mac: try reader.string("mac"), mtu: try reader.int("mtu"), sandbox: try reader.string("sandbox"))
        }
        ips = try top.objects("ips").map { reader throws(CNIError) in
            let address = try reader.requiredString("address")
            guard address.split(separator: "/").count == 2, let length = Int(address.split(separator: "/")[1]), length >= 0 else {
                throw fail(reader.field("address"), "\"\(address)\" must be an address with a prefix length, like 10.1.0.5/24")
            }
            let index = try reader.int("interface")
            if let index, index < 0 { throw fail(reader.field("interface"), "must not be negative") }
            return IP(address: address, gateway: try reader.string("gateway"), interface: index)
        }
        routes = try top.objects("routes").map { reader throws(CNIError) in
            Route(dst: try reader.requiredString("dst"), gw: try reader.string("gw"), mtu: try reader.int("mtu"), advmss: try reader.int("advmss"),
                  priority: try reader.int("priority"), table: try reader.int("table"), scope: try reader.int("scope"))
        }
        if let dns = try top.object("dns") {
            self.dns = DNS(nameservers: try dns.stringArray("nameservers"), domain: try dns.string("domain"),
                           search: try dns.stringArray("search"), options: try dns.stringArray("options"))
        } else {
            dns = DNS()
        }
        self.json = json
    }

    /// A result built from its parts (tests, or a result the runtime makes up itself).
    public init(cniVersion: String = "1.0.0", interfaces: [Interface] = [], ips: [IP] = [], routes: [Route] = [], dns: DNS = DNS()) {
        var object: [String: JSONValue] = ["cniVersion": .string(cniVersion)]
        if !interfaces.isEmpty {
            object["interfaces"] = .array(interfaces.map { interface in
                var o: [String: JSONValue] = ["name": .string(interface.name)]
                if let mac = interface.mac { o["mac"] = .string(mac) }
                if let mtu = interface.mtu { o["mtu"] = .int(Int64(mtu)) }
                if let sandbox = interface.sandbox { o["sandbox"] = .string(sandbox) }
                return .object(o)
            })
        }
        if !ips.isEmpty {
            object["ips"] = .array(ips.map { ip in
                var o: [String: JSONValue] = ["address": .string(ip.address)]
                if let gateway = ip.gateway { o["gateway"] = .string(gateway) }
                if let index = ip.interface { o["interface"] = .int(Int64(index)) }
                return .object(o)
            })
        }
        if !routes.isEmpty {
            object["routes"] = .array(routes.map { route in
                var o: [String: JSONValue] = ["dst": .string(route.dst)]
                if let gw = route.gw { o["gw"] = .string(gw) }
                for (key, value) in [("mtu", route.mtu), ("advmss", route.advmss), ("priority", route.priority), ("table", route.table), ("scope", route.scope)] {
                    if let value { o[key] = .int(Int64(value)) }
                }
                return .object(o)
            })
        }
        var d: [String: JSONValue] = [:]
        if !dns.nameservers.isEmpty { d["nameservers"] = .array(dns.nameservers.map { .string($0) }) }
        if let domain = dns.domain { d["domain"] = .string(domain) }
        if !dns.search.isEmpty { d["search"] = .array(dns.search.map { .string($0) }) }
        if !dns.options.isEmpty { d["options"] = .array(dns.options.map { .string($0) }) }
        object["dns"] = .object(d)
        self.cniVersion = cniVersion
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
        self.json = .object(object)
    }

    /// Parses a result printed by a plugin or stored in a record.
    public static func parse(_ bytes: [UInt8]) throws(CNIError) -> CNIResult {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .badResult(type: nil, detail: "not JSON: \(error.message)")
        }
        return try CNIResult(json: value)
    }

    /// The result as compact JSON (sorted keys).
    public func serialized() -> String { json.serialized() }

    /// The interface called `name` inside the sandbox `sandbox` (the CNI_NETNS the ADD was given).
    public func interface(named name: String, inSandbox sandbox: String) -> Interface? {
        interfaces.first { $0.name == name && $0.sandbox == sandbox }
    }

    /// The addresses of the interface called `name` inside `sandbox`: those whose `interface` index points
    /// at it. (A result with no `interfaces`, as an IPAM plugin's, gives all its addresses.)
    public func addresses(ofInterface name: String, inSandbox sandbox: String) -> [IP] {
        if interfaces.isEmpty { return ips }
        let indices = Set(interfaces.indices.filter { interfaces[$0].name == name && interfaces[$0].sandbox == sandbox })
        return ips.filter { $0.interface.map(indices.contains) ?? false }
    }
}

extension CNIResult: Codable {
    /// Encoded as the result's JSON; decoding reads it again.
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
