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
    public static func apply(_ desired: [NMStateInterface], to current: [HostLink]) throws(VirtError) -> HostNetworkPlan {
        var plan = HostNetworkPlan()
        let existing = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let declared = Set(desired.map(\.name))
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
    public static func rollback(to snapshot: [HostLink], touched: Set<String>, now: [HostLink]) -> [String] {
        let before = Dictionary(snapshot.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(now.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        let names = touched.sorted()
        // What the apply took away that can be made again.
        for name in names where before[name] != nil && after[name] == nil {
            guard let link = before[name] else { continue }
            switch link.kind {
            case "bridge"?: lines.append("link add \(name) type bridge")
            case "dummy"?: lines.append("link add \(name) type dummy")
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
