import VirtAPI
import VirtError

/// What applying a policy's interfaces to the node comes to: `ip` lines, then `bridge` lines (port VLANs),
/// and the interfaces it touches, so a rollback knows what to restore. A pure value, made from the desired
/// interfaces and the links as they are (``HostNetworkPlan/apply(_:to:)``); its inverse is
/// ``HostNetworkPlan/rollback(to:touched:now:)``.
public struct HostNetworkPlan: Sendable, Equatable {
    /// `ip -batch` lines, in order.
    public var ipCommands: [String] = []
    /// `bridge -batch` lines, after the `ip` ones.
    public var bridgeCommands: [String] = []
    /// Every interface the lines change (the policy's and the ports moved in or out of its bridges).
    public var touched: Set<String> = []

    public init() {}

    /// The lines that take `current` to `desired`, in the policy's order, with bridges and bonds made
    /// before their ports join. Errors name the interface that cannot be had.
    public static func apply(_ desired: [NMStateInterface], to links: [HostLink]) throws(VirtError) -> HostNetworkPlan {
        var plan = HostNetworkPlan()
        let declared = Set(desired.map(\.name))
        // A vlan with another id or base, a bond with another mode: the kernel changes neither in place
        // (a bond's mode only without ports), so they are deleted and made again like new ones.
        let remade = Set(desired.filter { interface in
            links.first { $0.name == interface.name }.map { Self.mustRemake($0, as: interface) } ?? false
        }.map(\.name))
        for name in remade.sorted() {
            // What would go with it unsaid is refused: vlans on top of it and the bridge or bond it is a port of.
            let onTop = links.filter { $0.vlanBase == name }.map(\.name).sorted()
            let master = links.first { $0.name == name }?.master
            if !onTop.isEmpty || master != nil {
                let what = (onTop.map { "the vlan \($0) on it" } + (master.map { ["its membership of \($0)"] } ?? [])).joined(separator: " and ")
                throw VirtError(.invalid, "interface \(name): the kernel cannot change its \(desired.first { $0.name == name }?.type == .vlan ? "VLAN id or base" : "bond mode") in place, and making it again would lose \(what); take those off it in this policy first")
            }
            plan.ipCommands.append("link del \(name)")
        }
        let current = Self.without(remade, links)
        let existing = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Made again, an interface keeps what the policy does not restate: its ports (a bond), its MTU,
        // MAC and addresses.
        let desired = desired.map { interface in
            guard remade.contains(interface.name), let old = links.first(where: { $0.name == interface.name }) else { return interface }
            var interface = interface
            if interface.type == .bond, interface.ports == nil {
                interface.ports = links.filter { $0.master == interface.name }.map { NMStateInterface.Port(name: $0.name, vlan: nil) }
            }
            if interface.mtu == nil { interface.mtu = old.mtu }
            if interface.macAddress == nil, interface.type == .bond { interface.macAddress = old.mac }
            if interface.ipv4Enabled == nil || (interface.ipv4Enabled == true && interface.ipv4Addresses == nil) {
                interface.ipv4Enabled = true
                interface.ipv4Addresses = old.ipv4
            }
            return interface
        }
        // Made first, so ports and vlans can refer to them whatever the policy's order.
        for interface in desired where interface.state != .absent && existing[interface.name] == nil {
            switch interface.type {
            case .linuxBridge: plan.ipCommands.append("link add \(interface.name) type bridge")
            case .dummy: plan.ipCommands.append("link add \(interface.name) type dummy")
            case .bond: plan.ipCommands.append("link add \(interface.name) type bond mode \(interface.bondMode ?? "balance-rr")")
            case .vlan:
                guard let base = interface.vlanBase, let id = interface.vlanID else { continue }
                guard existing[base] != nil || declared.contains(base) else {
                    throw VirtError(.invalid, "interface \(interface.name): its base interface \(base) does not exist on this node")
                }
                plan.ipCommands.append("link add link \(base) name \(interface.name) type vlan id \(id)")
            case .ethernet, .veth:
                throw VirtError(.invalid, "interface \(interface.name) (\(interface.type.rawValue)) does not exist on this node; only bridges, bonds, vlans and dummies are made")
            }
            plan.touched.insert(interface.name)
        }
        for interface in desired {
            let name = interface.name
            plan.touched.insert(name)
            let link = existing[name]
            if interface.state == .absent {
                guard let link else { continue }
                // A device the node has of its own (a NIC) is only taken down; what was made is removed.
                if link.kind == nil || link.kind == "veth" {
                    plan.ipCommands.append("link set \(name) down")
                } else {
                    for port in current where port.master == name {
                        plan.ipCommands.append("link set \(port.name) nomaster")
                        plan.touched.insert(port.name)
                    }
                    plan.ipCommands.append("link del \(name)")
                }
                continue
            }
            if let mtu = interface.mtu, link?.mtu != mtu { plan.ipCommands.append("link set \(name) mtu \(mtu)") }
            if let mac = interface.macAddress, link?.mac != mac { plan.ipCommands.append("link set \(name) address \(mac)") }
            if interface.type == .linuxBridge {
                if let stp = interface.stp { plan.ipCommands.append("link set \(name) type bridge stp_state \(stp ? 1 : 0)") }
                if interface.filtersVLANs { plan.ipCommands.append("link set \(name) type bridge vlan_filtering 1") }
            }
            if let ports = interface.ports {
                let wanted = Set(ports.map(\.name))
                for port in current where port.master == name && !wanted.contains(port.name) {
                    plan.ipCommands.append("link set \(port.name) nomaster")
                    plan.touched.insert(port.name)
                }
                for port in ports {
                    guard existing[port.name] != nil || declared.contains(port.name) else {
                        throw VirtError(.invalid, "interface \(name): its port \(port.name) does not exist on this node")
                    }
                    let joining = existing[port.name]?.master != name
                    if joining {
                        // A bond's ports must be down to join it.
                        if interface.type == .bond { plan.ipCommands.append("link set \(port.name) down") }
                        plan.ipCommands.append("link set \(port.name) master \(name)")
                    }
                    plan.ipCommands.append("link set \(port.name) up")
                    plan.touched.insert(port.name)
                    if let vlan = port.vlan { plan.bridgeCommands += Self.vlanLines(port: port.name, vlan, joining: joining) }
                }
            }
            if let enabled = interface.ipv4Enabled, !enabled || interface.ipv4Addresses != nil {
                let have = Set(link?.ipv4 ?? [])
                let want = enabled ? interface.ipv4Addresses ?? [] : []
                for address in (link?.ipv4 ?? []) where !want.contains(address) {
                    plan.ipCommands.append("addr del \(address) dev \(name)")
                }
                for address in want where !have.contains(address) {
                    plan.ipCommands.append("addr add \(address) dev \(name)")
                }
            }
            plan.ipCommands.append("link set \(name) \(interface.state == .down ? "down" : "up")")
        }
        return plan
    }

    /// Whether `link` cannot become `interface` in place: a vlan of another id or base, a bond of another mode.
    static func mustRemake(_ link: HostLink, as interface: NMStateInterface) -> Bool {
        guard interface.state != .absent else { return false }
        switch interface.type {
        case .vlan:
            guard link.kind == "vlan" else { return false }
            return (interface.vlanID.map { $0 != link.vlanID } ?? false) || (interface.vlanBase.map { $0 != link.vlanBase } ?? false)
        case .bond:
            guard link.kind == "bond", let mode = interface.bondMode, let now = link.bondMode else { return false }
            return mode != now
        default:
            return false
        }
    }

    /// `links` as they are once the `names` are deleted: without them, and their ports without a controller.
    static func without(_ names: Set<String>, _ links: [HostLink]) -> [HostLink] {
        guard !names.isEmpty else { return links }
        return links.filter { !names.contains($0.name) }.map { link in
            var link = link
            if let master = link.master, names.contains(master) { link.master = nil }
            return link
        }
    }

    /// A port's VLAN membership: the default VLAN 1 removed when the port joins now (a port already in the
    /// bridge lost it at its first apply, and deleting it again fails), then its access VLAN (untagged) or
    /// its trunk VLANs (tagged) and native VLAN.
    static func vlanLines(port: String, _ vlan: NMStateInterface.PortVLAN, joining: Bool = true) -> [String] {
        var lines = joining ? ["vlan del dev \(port) vid 1"] : []
        switch vlan.mode {
        case .access:
            if let tag = vlan.tag { lines.append("vlan add dev \(port) vid \(tag) pvid untagged") }
        case .trunk:
            for range in vlan.trunkTags {
                lines.append(range.count == 1 ? "vlan add dev \(port) vid \(range.lowerBound)" : "vlan add dev \(port) vid \(range.lowerBound)-\(range.upperBound)")
            }
            if let tag = vlan.tag { lines.append("vlan add dev \(port) vid \(tag) pvid untagged") }
        }
        return lines
    }

    /// The `ip` lines that take the `touched` interfaces from `now` back to `snapshot`: what the apply
    /// made is removed, what it removed (bridges, dummies) is made again, and each interface gets its
    /// controller, MTU, MAC, addresses and up/down state back. Meant for `ip -force -batch`, which goes on
    /// past a failing line.
    public static func rollback(to snapshot: [HostLink], touched: Set<String>, now links: [HostLink]) -> [String] {
        let before = Dictionary(snapshot.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        let names = touched.sorted()
        // A vlan or bond the apply made again differently is deleted and made as it was.
        let remade = Set(names.filter { name in
            guard let was = before[name], let now = links.first(where: { $0.name == name }), was.kind == now.kind else { return false }
            return (was.kind == "vlan" && (was.vlanID != now.vlanID || was.vlanBase != now.vlanBase))
                || (was.kind == "bond" && was.bondMode != nil && now.bondMode != nil && was.bondMode != now.bondMode)
        })
        for name in remade.sorted() { lines.append("link del \(name)") }
        let after = Dictionary(Self.without(remade, links).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // What the apply took away that can be made again.
        for name in names where before[name] != nil && after[name] == nil {
            guard let link = before[name] else { continue }
            switch link.kind {
            case "bridge"?: lines.append("link add \(name) type bridge")
            case "dummy"?: lines.append("link add \(name) type dummy")
            case "bond"?: lines.append("link add \(name) type bond mode \(link.bondMode ?? "balance-rr")")
            case "vlan"?:
                if let base = link.vlanBase, let id = link.vlanID { lines.append("link add link \(base) name \(name) type vlan id \(id)") }
            default: break
            }
        }
        for name in names {
            guard let link = before[name] else { continue }
            let current = after[name]
            if let master = link.master {
                if current?.master != master { lines.append("link set \(name) master \(master)") }
            } else if current?.master != nil {
                lines.append("link set \(name) nomaster")
            }
            if let mtu = link.mtu, current?.mtu != mtu { lines.append("link set \(name) mtu \(mtu)") }
            if let mac = link.mac, current?.mac != mac, link.kind != nil || current?.mac != nil { lines.append("link set \(name) address \(mac)") }
            let had = Set(link.ipv4)
            for address in current?.ipv4 ?? [] where !had.contains(address) { lines.append("addr del \(address) dev \(name)") }
            let has = Set(current?.ipv4 ?? [])
            for address in link.ipv4 where !has.contains(address) { lines.append("addr add \(address) dev \(name)") }
            lines.append("link set \(name) \(link.up ? "up" : "down")")
        }
        // What the apply made goes last, once its ports are back where they were.
        for name in names where before[name] == nil && after[name] != nil {
            lines.append("link del \(name)")
        }
        return lines
    }

    /// What in `now` differs from `desired`, one sentence per difference; empty: the node is as asked.
    public static func differences(_ desired: [NMStateInterface], now: [HostLink]) -> [String] {
        let links = Dictionary(now.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var found: [String] = []
        for interface in desired {
            let name = interface.name
            guard let link = links[name] else {
                if interface.state != .absent { found.append("\(name) does not exist") }
                continue
            }
            if interface.state == .absent {
                if link.kind != nil && link.kind != "veth" { found.append("\(name) still exists") } else if link.up { found.append("\(name) is still up") }
                continue
            }
            if link.up != (interface.state == .up) { found.append("\(name) is \(link.up ? "up" : "down")") }
            if interface.type == .vlan, let id = interface.vlanID, link.vlanID != id { found.append("\(name) has VLAN id \(link.vlanID.map(String.init) ?? "none")") }
            if interface.type == .bond, let mode = interface.bondMode, let now = link.bondMode, now != mode { found.append("\(name) has bond mode \(now)") }
            if let mtu = interface.mtu, link.mtu != mtu { found.append("\(name) has MTU \(link.mtu.map(String.init) ?? "none")") }
            if let enabled = interface.ipv4Enabled, !enabled || interface.ipv4Addresses != nil,
               Set(link.ipv4) != Set(enabled ? interface.ipv4Addresses ?? [] : []) {
                found.append("\(name) has the addresses [\(link.ipv4.map(\.description).joined(separator: ", "))]")
            }
            if let ports = interface.ports {
                let have = Set(now.filter { $0.master == name }.map(\.name))
                if have != Set(ports.map(\.name)) { found.append("\(name) has the ports [\(have.sorted().joined(separator: ", "))]") }
            }
        }
        return found
    }
}
