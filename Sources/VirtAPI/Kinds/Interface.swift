/// KubeVirt `Interface`: a guest network card (`spec.domain.devices.interfaces[]`), bound to the network
/// of the same name by exactly one binding method.
public struct Interface: Codable, Sendable, Equatable {
    public var name: String
    /// `virtio`, `e1000`, `e1000e`, `igb`, `ne2k_pci`, `pcnet` or `rtl8139`.
    public var model: String?
    public var bridge: EmptyObject?
    public var slirp: EmptyObject?
    public var masquerade: EmptyObject?
    public var sriov: EmptyObject?
    public var macvtap: EmptyObject?
    public var passt: EmptyObject?
    public var passtBinding: EmptyObject?
    /// A network binding plugin by name.
    public var binding: PluginBinding?
    /// Ports to forward with masquerade; kept opaque.
    public var ports: [JSONValue]?
    public var portRanges: [JSONValue]?
    public var macAddress: String?
    public var bootOrder: UInt?
    public var pciAddress: String?
    /// DHCP options for the guest; kept opaque.
    public var dhcpOptions: JSONValue?
    public var tag: String?
    public var acpiIndex: Int?
    /// `up`, `down` or `absent`.
    public var state: String?

    public init(name: String) { self.name = name }

    /// The names of the binding methods set on this interface.
    public var bindingMethods: [String] {
        var methods: [String] = []
        if bridge != nil { methods.append("bridge") }
        if slirp != nil { methods.append("slirp") }
        if masquerade != nil { methods.append("masquerade") }
        if sriov != nil { methods.append("sriov") }
        if macvtap != nil { methods.append("macvtap") }
        if passt != nil { methods.append("passt") }
        if passtBinding != nil { methods.append("passtBinding") }
        if binding != nil { methods.append("binding") }
        return methods
    }
}

extension Interface {
    /// A port forwarded to the guest: `protocol` (TCP when absent) and `port`.
    public struct ForwardedPort: Sendable, Equatable {
        public var transport: String
        public var port: Int
    }

    /// The protocol of a port that names none.
    public static let defaultPortProtocol = "TCP"

    /// The `ports` entries that name a port number (admission refuses the others).
    public var forwardedPorts: [ForwardedPort] {
        (ports ?? []).compactMap { entry in
            guard let number = entry["port"]?.intValue else { return nil }
            return ForwardedPort(transport: entry["protocol"]?.stringValue ?? Self.defaultPortProtocol, port: Int(number))
        }
    }
}

/// KubeVirt `PluginBinding`: the name of a network binding plugin.
public struct PluginBinding: Codable, Sendable, Equatable {
    public var name: String

    public init(name: String) { self.name = name }
}

extension Interface: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.required("name")
        model = try object.optional("model")
        bridge = try object.optional("bridge")
        slirp = try object.optional("slirp")
        masquerade = try object.optional("masquerade")
        sriov = try object.optional("sriov")
        macvtap = try object.optional("macvtap")
        passt = try object.optional("passt")
        passtBinding = try object.optional("passtBinding")
        binding = try object.optional("binding")
        ports = try object.optional("ports")
        portRanges = try object.optional("portRanges")
        macAddress = try object.optional("macAddress")
        bootOrder = try object.optional("bootOrder")
        pciAddress = try object.optional("pciAddress")
        dhcpOptions = try object.optional("dhcpOptions")
        tag = try object.optional("tag")
        acpiIndex = try object.optional("acpiIndex")
        state = try object.optional("state")
    }
}

extension PluginBinding: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.required("name")
    }
}
