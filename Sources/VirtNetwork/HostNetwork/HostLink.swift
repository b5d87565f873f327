import VirtAPI
import VirtError

/// One network interface of the node as `ip -j -d addr show` reports it: what a policy is applied
/// against, what a rollback restores, and what a NodeNetworkState shows.
public struct HostLink: Sendable, Equatable {
    public var name: String
    /// The link kind (`bridge`, `veth`, `vlan`, `bond`, `dummy`, `macvlan` …); nil: a device without one
    /// (a physical NIC, loopback).
    public var kind: String?
    /// `link_type`: `ether`, `loopback` ….
    public var linkType: String?
    public var mac: String?
    public var mtu: Int?
    /// Administratively up (the `UP` flag).
    public var up: Bool
    /// The bridge or bond it is a port of.
    public var master: String?
    public var ipv4: [NMStateInterface.Address]
    /// vlan links: the base interface (`link`) and the VLAN id.
    public var vlanBase: String?
    public var vlanID: Int?
    /// bond links: the bonding mode (`balance-rr`, `active-backup` …).
    public var bondMode: String?

    public init(name: String, kind: String? = nil, linkType: String? = "ether", mac: String? = nil, mtu: Int? = 1500, up: Bool = true,
                master: String? = nil, ipv4: [NMStateInterface.Address] = [], vlanBase: String? = nil, vlanID: Int? = nil, bondMode: String? = nil) {
        self.bondMode = bondMode
        self.name = name
        self.kind = kind
        self.linkType = linkType
        self.mac = mac
        self.mtu = mtu
        self.up = up
        self.master = master
        self.ipv4 = ipv4
        self.vlanBase = vlanBase
        self.vlanID = vlanID
    }

    /// Reads `ip -j -d addr show` output. The tool's output is checked like any input: a link without a
    /// name is an error, unknown or mistyped fields are passed over.
    public static func parse(_ bytes: [UInt8]) throws(VirtError) -> [HostLink] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw VirtError(.internal, "ip -j addr show printed something that is not JSON: \(error.message)")
        }
        guard let items = value.arrayValue else { throw VirtError(.internal, "ip -j addr show printed no list of links") }
        var links: [HostLink] = []
        for item in items {
            guard let name = item["ifname"]?.stringValue, !name.isEmpty else { throw VirtError(.internal, "ip -j addr show printed a link without ifname") }
            let flags = (item["flags"]?.arrayValue ?? []).compactMap(\.stringValue)
            let info = item["linkinfo"]
            var link = HostLink(name: name, kind: info?["info_kind"]?.stringValue, linkType: item["link_type"]?.stringValue,
                                mac: item["address"]?.stringValue?.lowercased(), mtu: item["mtu"]?.intValue.map { Int(clamping: $0) },
                                up: flags.contains("UP"), master: item["master"]?.stringValue)
            for address in item["addr_info"]?.arrayValue ?? [] where address["family"]?.stringValue == "inet" {
                if let ip = address["local"]?.stringValue.flatMap({ IPv4Address($0) }), let length = address["prefixlen"]?.intValue, (0...32).contains(length) {
                    link.ipv4.append(.init(ip: ip, prefixLength: Int(length)))
                }
            }
            if link.kind == "vlan" {
                link.vlanBase = item["link"]?.stringValue
                link.vlanID = info?[path: ["info_data", "id"]]?.intValue.map { Int(clamping: $0) }
            }
            if link.kind == "bond" { link.bondMode = info?[path: ["info_data", "mode"]]?.stringValue }
            links.append(link)
        }
        return links
    }

    /// The nmstate `type` of this link.
    public var nmstateType: String {
        switch kind {
        case "bridge": "linux-bridge"
        case "veth": "veth"
        case "vlan": "vlan"
        case "bond": "bond"
        case "dummy": "dummy"
        case "macvlan": "mac-vlan"
        case "tun": "tun"
        case nil: linkType == "loopback" ? "loopback" : "ethernet"
        case let other?: other
        }
    }

    /// The interface as a NodeNetworkState's `currentState.interfaces[]` entry; `ports`: the names of
    /// its bridge's ports.
    public func nmstateJSON(ports: [String]) -> JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "type": .string(nmstateType), "state": up ? "up" : "down"]
        if let mac { object["mac-address"] = .string(mac.uppercased()) }
        if let mtu { object["mtu"] = .int(Int64(mtu)) }
        if let master { object["controller"] = .string(master) }
        object["ipv4"] = [
            "enabled": .bool(!ipv4.isEmpty),
            "address": .array(ipv4.map { ["ip": .string($0.ip.description), "prefix-length": .int(Int64($0.prefixLength))] }),
        ]
        if kind == "bridge" { object["bridge"] = ["port": .array(ports.map { ["name": .string($0)] })] }
        if kind == "vlan", let vlanBase, let vlanID { object["vlan"] = ["base-iface": .string(vlanBase), "id": .int(Int64(vlanID))] }
        if kind == "bond" {
            var aggregation: [String: JSONValue] = ["port": .array(ports.map { .string($0) })]
            if let bondMode { aggregation["mode"] = .string(bondMode) }
            object["link-aggregation"] = .object(aggregation)
        }
        return .object(object)
    }

    /// `currentState` of a NodeNetworkState: every link, in name order, each bridge with its ports.
    public static func currentState(_ links: [HostLink]) -> JSONValue {
        ["interfaces": .array(links.sorted { $0.name < $1.name }.map { link in
            link.nmstateJSON(ports: links.filter { $0.master == link.name }.map(\.name).sorted())
        })]
    }
}
