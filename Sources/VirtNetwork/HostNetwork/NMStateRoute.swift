import VirtAPI
import VirtError

/// One route of an nmstate `desiredState.routes.config[]`, read and checked: IPv4 only, in a numbered
/// table (254, `main`, when none is given). `state: absent` removes every route of the node that matches
/// the fields given, as nmstate does.
public struct NMStateRoute: Sendable, Equatable {
    public var destination: IPv4CIDR
    public var nextHopAddress: IPv4Address?
    public var nextHopInterface: String?
    public var metric: Int?
    /// `table-id`; nil is the main table.
    public var table: Int?
    public var absent: Bool

    public init(destination: IPv4CIDR, nextHopAddress: IPv4Address? = nil, nextHopInterface: String? = nil, metric: Int? = nil,
                table: Int? = nil, absent: Bool = false) {
        self.destination = destination
        self.nextHopAddress = nextHopAddress
        self.nextHopInterface = nextHopInterface
        self.metric = metric
        self.table = table
        self.absent = absent
    }

    public static let mainTable = 254

    /// The routes of a `desiredState` (none without `routes`); `field` is where it sits, for errors.
    public static func routes(desiredState: JSONValue?, field: String = "spec.desiredState") throws(VirtError) -> [NMStateRoute] {
        guard let routes = desiredState?["routes"], !routes.isNull else { return [] }
        let path = "\(field).routes"
        guard case .object(let object) = routes else { throw VirtError(.invalid, "\(path): Invalid value: must be an object with a config list") }
        for key in object.keys.sorted() where key != "config" {
            throw VirtError(.invalid, "\(path).\(key): Unsupported value: only routes.config is read (routes.running is what the node reports); remove \(key)")
        }
        guard let config = object["config"], !config.isNull else { return [] }
        guard case .array(let items) = config else { throw VirtError(.invalid, "\(path).config: Invalid value: must be a list") }
        var found: [NMStateRoute] = []
        for (i, item) in items.enumerated() { found.append(try route(item, path: "\(path).config[\(i)]")) }
        return found
    }

    static let knownKeys: Set<String> = ["destination", "next-hop-address", "next-hop-interface", "metric", "table-id", "state"]

    static func route(_ value: JSONValue, path: String) throws(VirtError) -> NMStateRoute {
        guard case .object(let object) = value else { throw VirtError(.invalid, "\(path): Invalid value: must be an object") }
        for key in object.keys.sorted() where !knownKeys.contains(key) {
            throw VirtError(.invalid, "\(path).\(key): Unsupported value: not configured yet; remove it")
        }
        guard let text = try NMStateInterface.string(object["destination"], "\(path).destination", required: true) else {
            throw VirtError(.invalid, "\(path).destination: Required value")
        }
        if text.contains(":") {
            throw VirtError(.invalid, "\(path).destination: Unsupported value: \"\(text)\": IPv6 routes are not configured yet")
        }
        let destination: IPv4CIDR
        do {
            destination = try IPv4CIDR(parsing: text, strict: true)
        } catch {
            throw VirtError(.invalid, "\(path).destination: Invalid value: \(error.message)")
        }
        var route = NMStateRoute(destination: destination)
        switch try NMStateInterface.string(object["state"], "\(path).state") {
        case nil: break
        case "absent": route.absent = true
        case let other?: throw VirtError(.invalid, "\(path).state: Unsupported value: \"\(other)\": supported values: \"absent\"")
        }
        if let hop = try NMStateInterface.string(object["next-hop-address"], "\(path).next-hop-address"), !hop.isEmpty {
            guard let address = IPv4Address(hop) else {
                throw VirtError(.invalid, "\(path).next-hop-address: Invalid value: \"\(hop)\": must be an IPv4 address such as 192.168.1.1")
            }
            route.nextHopAddress = address
        }
        if let device = object["next-hop-interface"], !device.isNull {
            route.nextHopInterface = try NMStateInterface.interfaceName(device, "\(path).next-hop-interface")
        }
        if let metric = object["metric"], !metric.isNull {
            guard let number = metric.intValue, (0...Int64(UInt32.max)).contains(number) else {
                throw VirtError(.invalid, "\(path).metric: Invalid value: must be a number from 0 to 4294967295")
            }
            route.metric = Int(number)
        }
        if let table = object["table-id"], !table.isNull {
            guard let number = table.intValue, (1...Int64(UInt32.max)).contains(number), number != 255 else {
                throw VirtError(.invalid, "\(path).table-id: Invalid value: must be a table number from 1 to 4294967295, not 255 (local)")
            }
            route.table = Int(number) == mainTable ? nil : Int(number)
        }
        if !route.absent, route.nextHopInterface == nil {
            throw VirtError(.invalid, "\(path).next-hop-interface: Required value: the interface the route leaves by")
        }
        return route
    }

    /// The `ip route` arguments naming this route.
    public var ipArguments: String {
        var words = [destination.prefixLength == 0 ? "default" : destination.description]
        if let nextHopAddress { words += ["via", nextHopAddress.description] }
        if let nextHopInterface { words += ["dev", nextHopInterface] }
        if let metric { words += ["metric", String(metric)] }
        if let table { words += ["table", String(table)] }
        return words.joined(separator: " ")
    }

    /// Whether `route` is one this entry names: the same destination and table, and the next hop and
    /// metric where this entry gives them.
    public func matches(_ route: HostRoute) -> Bool {
        route.destination == destination && route.table == (table ?? Self.mainTable)
            && (nextHopAddress == nil || route.gateway == nextHopAddress)
            && (nextHopInterface == nil || route.device == nextHopInterface)
            && (metric == nil || route.metric == metric)
    }
}

/// One IPv4 route of the node as `ip -j -4 route show table all` reports it (unicast routes only).
public struct HostRoute: Sendable, Equatable {
    public var destination: IPv4CIDR
    public var gateway: IPv4Address?
    public var device: String?
    public var metric: Int
    public var table: Int
    /// `kernel` for the routes of an interface's own addresses, `static`, `boot`, `dhcp` …
    public var proto: String?

    public init(destination: IPv4CIDR, gateway: IPv4Address? = nil, device: String? = nil, metric: Int = 0, table: Int = NMStateRoute.mainTable,
                proto: String? = "boot") {
        self.destination = destination
        self.gateway = gateway
        self.device = device
        self.metric = metric
        self.table = table
        self.proto = proto
    }

    /// Reads `ip -j -4 route show table all`; routes of other types than unicast (local, broadcast …) and
    /// anything unreadable are passed over.
    public static func parse(_ bytes: [UInt8]) throws(VirtError) -> [HostRoute] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw VirtError(.internal, "ip -j route show printed something that is not JSON: \(error.message)")
        }
        guard let items = value.arrayValue else { throw VirtError(.internal, "ip -j route show printed no list of routes") }
        var routes: [HostRoute] = []
        for item in items {
            if let type = item["type"]?.stringValue, type != "unicast" { continue }
            guard let dst = item["dst"]?.stringValue else { continue }
            let destination: IPv4CIDR
            if dst == "default" {
                destination = IPv4CIDR(containing: IPv4Address(0), prefixLength: 0)
            } else if let cidr = try? IPv4CIDR(parsing: dst.contains("/") ? dst : dst + "/32") {
                destination = cidr
            } else {
                continue
            }
            let table: Int
            switch item["table"]?.stringValue ?? item["table"]?.intValue.map({ String($0) }) {
            case nil, "main"?: table = NMStateRoute.mainTable
            case "local"?: table = 255
            case "default"?: table = 253
            case let text?:
                guard let number = Int(text) else { continue }
                table = number
            }
            routes.append(HostRoute(destination: destination, gateway: item["gateway"]?.stringValue.flatMap { IPv4Address($0) },
                                    device: item["dev"]?.stringValue, metric: item["metric"]?.intValue.map { Int(clamping: $0) } ?? 0,
                                    table: table, proto: item["protocol"]?.stringValue ?? "boot"))
        }
        return routes
    }

    /// Whether both are the same route, however it was made (a route added back is `boot`).
    public func sameRoute(as other: HostRoute) -> Bool {
        destination == other.destination && gateway == other.gateway && device == other.device && metric == other.metric && table == other.table
    }

    /// The `ip route` arguments that make this route again.
    public var ipArguments: String {
        var words = [destination.prefixLength == 0 ? "default" : destination.description]
        if let gateway { words += ["via", gateway.description] }
        if let device { words += ["dev", device] }
        if metric != 0 { words += ["metric", String(metric)] }
        if table != NMStateRoute.mainTable { words += ["table", String(table)] }
        return words.joined(separator: " ")
    }

    /// The route as a NodeNetworkState's `routes.running[]` entry.
    public var nmstateJSON: JSONValue {
        var object: [String: JSONValue] = ["destination": .string(destination.description), "metric": .int(Int64(metric)),
                                           "table-id": .int(Int64(table))]
        object["next-hop-address"] = .string(gateway?.description ?? "")
        if let device { object["next-hop-interface"] = .string(device) }
        return .object(object)
    }

    /// `routes` of a NodeNetworkState: `running` every unicast route outside the local table; `config`
    /// those not made by the kernel for an address.
    public static func currentState(_ routes: [HostRoute]) -> JSONValue {
        let shown = routes.filter { $0.table != 255 }
        return ["running": .array(shown.map(\.nmstateJSON)), "config": .array(shown.filter { $0.proto != "kernel" }.map(\.nmstateJSON))]
    }
}

extension HostNetworkPlan {
    /// The `ip route` lines that take `current` to the `desired` routes, and the lines that undo them:
    /// a route that is missing is added; every route an `absent` entry matches is deleted.
    public static func routes(_ desired: [NMStateRoute], current: [HostRoute]) -> (apply: [String], undo: [String]) {
        var apply: [String] = []
        var undo: [String] = []
        for route in desired {
            if route.absent {
                for existing in current where route.matches(existing) {
                    apply.append("route del \(existing.ipArguments)")
                    undo.insert("route add \(existing.ipArguments)", at: 0)
                }
            } else if !current.contains(where: route.matches) {
                apply.append("route add \(route.ipArguments)")
                undo.insert("route del \(route.ipArguments)", at: 0)
            }
        }
        return (apply, undo)
    }

    /// The routes of `snapshot` by way of the `touched` interfaces that `now` lacks (deleting or taking
    /// down an interface takes its routes with it), as `route add` lines; the kernel's own come back with
    /// the addresses.
    public static func lostRoutes(snapshot: [HostRoute], now: [HostRoute], touched: Set<String>) -> [String] {
        snapshot.filter { route in
            route.proto != "kernel" && route.table != 255 && route.device.map(touched.contains) == true && !now.contains { $0.sameRoute(as: route) }
        }.map { "route add \($0.ipArguments)" }
    }

    /// What in `now` differs from the `desired` routes, one sentence each.
    public static func routeDifferences(_ desired: [NMStateRoute], now: [HostRoute]) -> [String] {
        desired.compactMap { route in
            let present = now.contains(where: route.matches)
            if route.absent { return present ? "route \(route.ipArguments) still exists" : nil }
            return present ? nil : "route \(route.ipArguments) is missing"
        }
    }
}
