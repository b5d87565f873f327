import VirtAPI

extension DHCPLease {
    /// The options a VMI interface's `dhcpOptions` asks for, in KubeVirt's shape:
    /// `bootFileName` → 67, `tftpServerName` → 66, `ntpServers` (IPv4 addresses) → 42,
    /// `privateOptions` `[{option: 224…254, value: "text"}]` → that code with the text's bytes.
    /// `path` names the field in errors (e.g. `spec.domain.devices.interfaces[0].dhcpOptions`).
    public static func options(kubeVirtDHCPOptions value: JSONValue?, path: String = "dhcpOptions") throws(DHCPError) -> [DHCPOption] {
        guard let value, !value.isNull else { return [] }
        guard let object = value.objectValue else { throw .invalidLease("\(path) must be an object") }
        let known: Set<String> = ["bootFileName", "tftpServerName", "ntpServers", "privateOptions"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidLease("\(path).\(unknown) is not a DHCP option field (bootFileName, tftpServerName, ntpServers, privateOptions)")
        }
        var options: [DHCPOption] = []
        func text(_ key: String) throws(DHCPError) -> String? {
            guard let field = object[key], !field.isNull else { return nil }
            guard let string = field.stringValue else { throw .invalidLease("\(path).\(key) must be a string") }
            return string.isEmpty ? nil : string
        }
        if let server = try text("tftpServerName") { options.append(.text(.tftpServerName, server)) }
        if let file = try text("bootFileName") { options.append(.text(.bootFileName, file)) }
        if let field = object["ntpServers"], !field.isNull {
            guard let list = field.arrayValue else { throw .invalidLease("\(path).ntpServers must be a list of IPv4 addresses") }
            var servers: [DHCPAddress] = []
            for (index, entry) in list.enumerated() {
                guard let text = entry.stringValue, let address = DHCPAddress(text) else {
                    throw .invalidLease("\(path).ntpServers[\(index)] must be an IPv4 address such as 192.0.2.123")
                }
                servers.append(address)
            }
            if !servers.isEmpty { options.append(.addresses(.ntpServers, servers)) }
        }
        if let field = object["privateOptions"], !field.isNull {
            guard let list = field.arrayValue else { throw .invalidLease("\(path).privateOptions must be a list of {option, value}") }
            var seen: Set<UInt8> = []
            for (index, entry) in list.enumerated() {
                let at = "\(path).privateOptions[\(index)]"
                guard let code = entry.objectValue?["option"]?.intValue,
                      let byte = UInt8(exactly: code), DHCPOption.Code.privateRange.contains(byte)
                else { throw .invalidLease("\(at).option must be a number from 224 to 254 (the private DHCP option codes)") }
                guard let text = entry.objectValue?["value"]?.stringValue else { throw .invalidLease("\(at).value must be a string") }
                guard seen.insert(byte).inserted else { throw .invalidLease("\(at).option \(byte) is given twice") }
                options.append(.text(DHCPOption.Code(byte), text))
            }
        }
        return options
    }
}
