import Foundation
import VirtAPI
import VirtError

/// One interface of an nmstate `desiredState` (NodeNetworkConfigurationPolicy `spec.desiredState.interfaces[]`),
/// read and checked: what the node agent is to make of it. Keys nmstate defines that are not read here
/// are refused by name rather than ignored, so a policy never reports Available for what was not done.
public struct NMStateInterface: Sendable, Equatable {
    /// nmstate's interface `type`s the agent configures.
    public enum Kind: String, Sendable, CaseIterable {
        case linuxBridge = "linux-bridge"
        case ethernet
        case veth
        case vlan
        case bond
        case dummy

        /// Whether the agent makes (and removes) interfaces of this kind; ethernet and veth interfaces
        /// must exist already.
        public var isVirtual: Bool { self == .linuxBridge || self == .vlan || self == .bond || self == .dummy }
    }

    public enum State: String, Sendable {
        case up, down, absent
    }

    /// An IPv4 address with its prefix length.
    public struct Address: Sendable, Equatable, Hashable, CustomStringConvertible {
        public var ip: IPv4Address
        public var prefixLength: Int

        public init(ip: IPv4Address, prefixLength: Int) {
            self.ip = ip
            self.prefixLength = prefixLength
        }

        public var description: String { "\(ip)/\(prefixLength)" }
    }

    /// A bridge port's VLAN membership (`bridge.port[].vlan`).
    public struct PortVLAN: Sendable, Equatable {
        public enum Mode: String, Sendable { case access, trunk }
        public var mode: Mode
        /// access: the port's untagged VLAN; trunk: the native VLAN, if any.
        public var tag: Int?
        /// trunk: the VLANs carried tagged.
        public var trunkTags: [ClosedRange<Int>]
    }

    public struct Port: Sendable, Equatable {
        public var name: String
        public var vlan: PortVLAN?
    }

    public var name: String
    public var type: Kind
    public var state: State
    public var mtu: Int?
    /// `mac-address`, lower case with colons.
    public var macAddress: String?
    /// `ipv4`: nil leaves the addresses as they are; `enabled: false` removes them all; `enabled: true`
    /// without `address` (nil here) keeps them, as nmstate does.
    public var ipv4Enabled: Bool?
    public var ipv4Addresses: [Address]?
    /// linux-bridge `bridge.port` / bond `link-aggregation.port`: nil leaves the ports as they are.
    public var ports: [Port]?
    /// linux-bridge `bridge.options.stp.enabled`.
    public var stp: Bool?
    /// vlan `vlan.base-iface` and `vlan.id`.
    public var vlanBase: String?
    public var vlanID: Int?
    /// bond `link-aggregation.mode`.
    public var bondMode: String?

    public init(name: String, type: Kind, state: State = .up) {
        self.name = name
        self.type = type
        self.state = state
    }

    /// Whether any bridge port asks for VLAN filtering.
    public var filtersVLANs: Bool { (ports ?? []).contains { $0.vlan != nil } }

    /// The interfaces of a `desiredState`; `field` is where it sits (`spec.desiredState`), for errors.
    public static func interfaces(desiredState: JSONValue?, field: String = "spec.desiredState") throws(VirtError) -> [NMStateInterface] {
        guard let desiredState, !desiredState.isNull else { throw VirtError(.invalid, "\(field): Required value: the nmstate document (interfaces)") }
        guard case .object(let top) = desiredState else { throw VirtError(.invalid, "\(field): Invalid value: must be an object with an interfaces list") }
        for key in top.keys.sorted() where !["interfaces", "routes"].contains(key) {
            throw VirtError(.invalid, "\(field).\(key): Unsupported value: only interfaces and routes are configured yet (no dns-resolver or ovn); remove \(key)")
        }
        guard let list = top["interfaces"] else {
            if top["routes"] != nil { return [] }
            throw VirtError(.invalid, "\(field).interfaces: Required value: the interfaces to configure")
        }
        guard case .array(let items) = list else { throw VirtError(.invalid, "\(field).interfaces: Invalid value: must be a list") }
        var found: [NMStateInterface] = []
        var seen: Set<String> = []
        for (i, item) in items.enumerated() {
            let path = "\(field).interfaces[\(i)]"
            let interface = try Self.interface(item, path: path)
            guard seen.insert(interface.name).inserted else {
                throw VirtError(.invalid, "\(path).name: Duplicate value: \"\(interface.name)\" is configured twice")
            }
            found.append(interface)
        }
        return found
    }

    static let knownKeys: Set<String> = ["name", "type", "state", "mtu", "mac-address", "ipv4", "ipv6", "bridge", "vlan", "link-aggregation", "description"]

    static func interface(_ value: JSONValue, path: String) throws(VirtError) -> NMStateInterface {
        guard case .object(let object) = value else { throw VirtError(.invalid, "\(path): Invalid value: must be an object") }
        for key in object.keys.sorted() where !knownKeys.contains(key) {
            throw VirtError(.invalid, "\(path).\(key): Unsupported value: this key is not configured yet; remove it")
        }
        let name = try interfaceName(object["name"], "\(path).name")
        let typeText = try string(object["type"], "\(path).type", required: true) ?? ""
        guard let type = Kind(rawValue: typeText) else {
            throw VirtError(.invalid, "\(path).type: Unsupported value: \"\(typeText)\": supported values: \(Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        let stateText = try string(object["state"], "\(path).state") ?? "up"
        guard let state = State(rawValue: stateText) else {
            throw VirtError(.invalid, "\(path).state: Unsupported value: \"\(stateText)\": supported values: \"up\", \"down\", \"absent\"")
        }
        var interface = NMStateInterface(name: name, type: type, state: state)
        if let mtu = object["mtu"], !mtu.isNull {
            guard let value = mtu.intValue, (68...65535).contains(value) else { throw VirtError(.invalid, "\(path).mtu: Invalid value: must be an integer from 68 to 65535") }
            interface.mtu = Int(value)
        }
        if let text = try string(object["mac-address"], "\(path).mac-address") {
            let octets = text.split(separator: ":", omittingEmptySubsequences: false)
            guard octets.count == 6, octets.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }) else {
                throw VirtError(.invalid, "\(path).mac-address: Invalid value: \"\(text)\": must be six hex octets, such as 02:00:00:00:00:01")
            }
            interface.macAddress = text.lowercased()
        }
        try readIPv4(object["ipv4"], into: &interface, path: "\(path).ipv4")
        if let ipv6 = object["ipv6"], !ipv6.isNull {
            guard case .object(let members) = ipv6, members["enabled"]?.boolValue == false, members.keys.allSatisfy({ $0 == "enabled" }) else {
                throw VirtError(.invalid, "\(path).ipv6: Unsupported value: IPv6 on the node's interfaces is not configured yet; give ipv6: {enabled: false} or remove ipv6")
            }
        }
        switch type {
        case .linuxBridge:
            try readBridge(object["bridge"], into: &interface, path: "\(path).bridge")
        case .vlan:
            guard case .object(let vlan)? = object["vlan"] else {
                if state == .absent { break }
                throw VirtError(.invalid, "\(path).vlan: Required value: base-iface and id")
            }
            interface.vlanBase = try interfaceName(vlan["base-iface"], "\(path).vlan.base-iface")
            guard let id = vlan["id"]?.intValue, (1...4094).contains(id) else { throw VirtError(.invalid, "\(path).vlan.id: Invalid value: must be from 1 to 4094") }
            interface.vlanID = Int(id)
        case .bond:
            if case .object(let aggregation)? = object["link-aggregation"] {
                interface.bondMode = try string(aggregation["mode"], "\(path).link-aggregation.mode")
                if let mode = interface.bondMode, !bondModes.contains(mode) {
                    throw VirtError(.invalid, "\(path).link-aggregation.mode: Unsupported value: \"\(mode)\": supported values: \(bondModes.map { "\"\($0)\"" }.joined(separator: ", "))")
                }
                if let ports = aggregation["port"] {
                    interface.ports = try names(ports, "\(path).link-aggregation.port").map { Port(name: $0, vlan: nil) }
                }
            } else if state != .absent {
                throw VirtError(.invalid, "\(path).link-aggregation: Required value: mode and port")
            }
        case .ethernet, .veth, .dummy:
            break
        }
        if type != .linuxBridge, object["bridge"] != nil { throw VirtError(.invalid, "\(path).bridge: Forbidden: only a linux-bridge has bridge settings") }
        return interface
    }

    static func readIPv4(_ value: JSONValue?, into interface: inout NMStateInterface, path: String) throws(VirtError) {
        guard let value, !value.isNull else { return }
        guard case .object(let ipv4) = value else { throw VirtError(.invalid, "\(path): Invalid value: must be an object") }
        for key in ipv4.keys.sorted() where !["enabled", "address", "dhcp"].contains(key) {
            throw VirtError(.invalid, "\(path).\(key): Unsupported value: not configured yet; remove it")
        }
        if ipv4["dhcp"]?.boolValue == true {
            throw VirtError(.invalid, "\(path).dhcp: Unsupported value: DHCP on the node's interfaces is not supported yet; give the addresses in ipv4.address")
        }
        guard let enabled = ipv4["enabled"]?.boolValue else { throw VirtError(.invalid, "\(path).enabled: Required value: true or false") }
        interface.ipv4Enabled = enabled
        guard case .array(let addresses)? = ipv4["address"] else { return }
        interface.ipv4Addresses = []
        for (i, entry) in addresses.enumerated() {
            let at = "\(path).address[\(i)]"
            guard case .object(let address) = entry, let ipText = address["ip"]?.stringValue, let ip = IPv4Address(ipText) else {
                throw VirtError(.invalid, "\(at).ip: Invalid value: must be an IPv4 address such as 192.168.1.10")
            }
            guard let length = address["prefix-length"]?.intValue, (0...32).contains(length) else {
                throw VirtError(.invalid, "\(at).prefix-length: Invalid value: must be from 0 to 32")
            }
            interface.ipv4Addresses?.append(Address(ip: ip, prefixLength: Int(length)))
        }
        if !enabled, !(interface.ipv4Addresses ?? []).isEmpty {
            throw VirtError(.invalid, "\(path).address: Forbidden: addresses need ipv4.enabled: true")
        }
    }

    static func readBridge(_ value: JSONValue?, into interface: inout NMStateInterface, path: String) throws(VirtError) {
        guard let value, !value.isNull else { return }
        guard case .object(let bridge) = value else { throw VirtError(.invalid, "\(path): Invalid value: must be an object") }
        if case .object(let options)? = bridge["options"] {
            for key in options.keys.sorted() where key != "stp" {
                throw VirtError(.invalid, "\(path).options.\(key): Unsupported value: only stp is configured yet; remove \(key)")
            }
            if case .object(let stp)? = options["stp"] { interface.stp = stp["enabled"]?.boolValue }
        }
        guard let portList = bridge["port"] else { return }
        guard case .array(let items) = portList else { throw VirtError(.invalid, "\(path).port: Invalid value: must be a list") }
        var ports: [Port] = []
        for (i, item) in items.enumerated() {
            let at = "\(path).port[\(i)]"
            guard case .object(let port) = item else { throw VirtError(.invalid, "\(at): Invalid value: must be an object with a name") }
            let name = try interfaceName(port["name"], "\(at).name")
            var vlan: PortVLAN?
            if case .object(let settings)? = port["vlan"] {
                let modeText = try string(settings["mode"], "\(at).vlan.mode") ?? "access"
                guard let mode = PortVLAN.Mode(rawValue: modeText) else {
                    throw VirtError(.invalid, "\(at).vlan.mode: Unsupported value: \"\(modeText)\": supported values: \"access\", \"trunk\"")
                }
                var tag: Int?
                if let value = settings["tag"], !value.isNull {
                    guard let id = value.intValue, (1...4094).contains(id) else { throw VirtError(.invalid, "\(at).vlan.tag: Invalid value: must be from 1 to 4094") }
                    tag = Int(id)
                }
                var trunks: [ClosedRange<Int>] = []
                if case .array(let tags)? = settings["trunk-tags"] {
                    for (j, entry) in tags.enumerated() {
                        let tagPath = "\(at).vlan.trunk-tags[\(j)]"
                        if let id = entry["id"]?.intValue, (1...4094).contains(id) {
                            trunks.append(Int(id)...Int(id))
                        } else if let range = entry["id-range"], let low = range["min"]?.intValue, let high = range["max"]?.intValue,
                                  1 <= low, low <= high, high <= 4094 {
                            trunks.append(Int(low)...Int(high))
                        } else {
                            throw VirtError(.invalid, "\(tagPath): Invalid value: give id (1 to 4094) or id-range with min <= max")
                        }
                    }
                }
                if mode == .access, tag == nil { throw VirtError(.invalid, "\(at).vlan.tag: Required value: an access port's VLAN") }
                if mode == .trunk, trunks.isEmpty { throw VirtError(.invalid, "\(at).vlan.trunk-tags: Required value: the VLANs a trunk carries") }
                vlan = PortVLAN(mode: mode, tag: tag, trunkTags: trunks)
            }
            ports.append(Port(name: name, vlan: vlan))
        }
        interface.ports = ports
    }

    static func names(_ value: JSONValue, _ path: String) throws(VirtError) -> [String] {
        guard case .array(let items) = value else { throw VirtError(.invalid, "\(path): Invalid value: must be a list of interface names") }
        var names: [String] = []
        for (i, item) in items.enumerated() { names.append(try interfaceName(item, "\(path)[\(i)]")) }
        return names
    }

    /// The bonding modes of the kernel's bonding driver.
    static let bondModes = ["balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"]

    /// An interface name: 1 to 15 of letters, digits and `_ . : @ -` (what `ip` takes as one word), not
    /// `.` or `..`.
    static func interfaceName(_ value: JSONValue?, _ path: String) throws(VirtError) -> String {
        let name = try string(value, path, required: true) ?? ""
        let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.:@-".unicodeScalars.contains($0)) }
        guard !name.isEmpty, name.utf8.count <= 15, allowed, name != ".", name != ".." else {
            throw VirtError(.invalid, "\(path): Invalid value: \"\(name)\": an interface name has 1 to 15 letters, digits or _ . : @ -")
        }
        return name
    }

    static func string(_ value: JSONValue?, _ path: String, required: Bool = false) throws(VirtError) -> String? {
        guard let value, !value.isNull else {
            if required { throw VirtError(.invalid, "\(path): Required value") }
            return nil
        }
        guard let text = value.stringValue else { throw VirtError(.invalid, "\(path): Invalid value: must be a string") }
        return text
    }
}
