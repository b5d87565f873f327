import VirtAPI
import VirtError

/// `devices.interfaces` → a `-netdev` backend and a NIC for each.
///
/// The backend is what the agent prepared (`LaunchContext.interfaces`): a tap device it wired, or QEMU's
/// user-mode network when it prepared nothing. The MAC is `macAddress`, else the one the network decided
/// (`NetworkBackend.tap(device:mac:)`, a bridge binding's pod interface MAC), else the generated one
/// (`QEMUCommand.generatedMACAddress`). As in KubeVirt, a NIC without `bootOrder` gets no option ROM
/// (no PXE), which also keeps the firmware from trying to boot from it.
extension QEMUCommandBuilder {
    /// KubeVirt interface model → QEMU device.
    static let nicModels: [(String, String)] = [
        ("virtio", "virtio-net-pci"), ("e1000", "e1000"), ("e1000e", "e1000e"), ("igb", "igb"),
        ("ne2k_pci", "ne2k_pci"), ("pcnet", "pcnet"), ("rtl8139", "rtl8139"),
    ]

    mutating func interfaceArguments() -> [String] {
        var args: [String] = []
        var seen: Set<String> = []
        for (i, iface) in (devices.interfaces ?? []).enumerated() {
            let path = field("domain.devices.interfaces[\(i)]")
            if !seen.insert(iface.name).inserted {
                invalid("\(path).name", "Duplicate value: \(Self.quoted(iface.name)): interface names must be unique")
                continue
            }
            let methods = iface.bindingMethods
            if methods.count > 1 {
                invalid(path, "must have only one binding method; it has \(methods.joined(separator: ", "))")
                continue
            }
            switch methods.first {
            case nil, "bridge", "masquerade", "slirp":
                break
            case "sriov":
                unsupported("\(path).sriov", "SR-IOV passthrough is not supported; use bridge: {} or masquerade: {}")
                continue
            case "macvtap":
                unsupported("\(path).macvtap", "the macvtap binding is not supported; use bridge: {}")
                continue
            case "binding":
                unsupported("\(path).binding",
                    "network binding plugins (\(Self.quoted(iface.binding?.name ?? ""))) are not supported yet; use bridge: {} or masquerade: {}")
                continue
            case let method?:
                unsupported("\(path).\(method)", "the \(method) binding is not supported yet; use masquerade: {} or bridge: {}")
                continue
            }
            switch iface.state {
            case nil, "up"?: break
            case "absent"?: continue
            case let state?:
                unsupported("\(path).state", "Unsupported value: \(Self.quoted(state)): starting with the link down is not supported yet; remove state")
                continue
            }
            if iface.pciAddress != nil {
                unsupported("\(path).pciAddress", "placing an interface at a fixed PCI address is not supported yet; remove pciAddress")
            }

            let model = iface.model ?? "virtio"
            guard var driver = Self.nicModels.first(where: { $0.0 == model })?.1 else {
                unsupported("\(path).model",
                    "Unsupported value: \(Self.quoted(model)): supported values: \(Self.nicModels.map { Self.quoted($0.0) }.joined(separator: ", "))")
                continue
            }
            if model == "virtio" && devices.useVirtioTransitional == true { driver += "-transitional" }

            let mac: String
            if let given = iface.macAddress {
                guard let normalized = Self.normalizedMAC(given) else {
                    invalid("\(path).macAddress",
                        "Invalid value: \(Self.quoted(given)): must be a MAC address of six hex octets, such as 02:00:00:00:00:01")
                    continue
                }
                guard let first = UInt8(normalized.prefix(2), radix: 16), first & 1 == 0 else {
                    invalid("\(path).macAddress",
                        "Invalid value: \(Self.quoted(given)): is a multicast address; the first octet must be even, such as 02:00:00:00:00:01")
                    continue
                }
                mac = normalized
            } else if case .tap(_, let networkMAC?) = context.interfaces[iface.name], let normalized = Self.normalizedMAC(networkMAC) {
                mac = normalized
            } else {
                mac = QEMUCommand.generatedMACAddress(vmiUID: context.vmiUID, interfaceName: iface.name)
            }

            var netdev: QEMUOptionList
            var queues = 1
            switch context.interfaces[iface.name] ?? .user {
            case .user:
                netdev = QEMUOptionList("user")
                netdev.add("id", QEMUNames.netdevID(iface.name))
            case .tap(let device, _):
                netdev = QEMUOptionList("tap")
                netdev.add("id", QEMUNames.netdevID(iface.name))
                netdev.add("ifname", device)
                netdev.add("script", "no")
                netdev.add("downscript", "no")
                if context.accelerator == .kvm && model == "virtio" { netdev.add("vhost", true) }
                // Multiqueue needs a tap backend; QEMU's user network has a single queue.
                if devices.networkInterfaceMultiqueue == true && model == "virtio" && vcpus > 1 {
                    queues = vcpus
                    netdev.add("queues", queues)
                }
            }

            var nic = QEMUOptionList(driver)
            nic.add("netdev", QEMUNames.netdevID(iface.name))
            nic.add("id", QEMUNames.deviceID(iface.name))
            nic.add("mac", mac)
            if queues > 1 {
                nic.add("mq", true)
                nic.add("vectors", 2 * queues + 2)
            }
            if let order = iface.bootOrder {
                nic.add("bootindex", order)
            } else {
                nic.add("romfile", "")
            }
            if let index = iface.acpiIndex {
                if index < 1 || index > 16383 {
                    invalid("\(path).acpiIndex", "Invalid value: \(index): must be from 1 to 16383")
                } else {
                    nic.add("acpi-index", index)
                }
            }
            args += ["-netdev", netdev.text, "-device", nic.text]
        }
        return args
    }

    /// `02-00-00-AA-BB-CC` or `02:00:00:aa:bb:cc` → `02:00:00:aa:bb:cc`; nil for anything else.
    static func normalizedMAC(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count == 17 else { return nil }
        let separator = bytes[2]
        guard separator == UInt8(ascii: ":") || separator == UInt8(ascii: "-") else { return nil }
        var out = ""
        for (i, b) in bytes.enumerated() {
            if i % 3 == 2 {
                guard b == separator else { return nil }
                out.append(":")
            } else {
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"):
                    out.unicodeScalars.append(UnicodeScalar(b))
                case UInt8(ascii: "A")...UInt8(ascii: "F"):
                    out.unicodeScalars.append(UnicodeScalar(b + 32))
                default:
                    return nil
                }
            }
        }
        return out
    }
}
