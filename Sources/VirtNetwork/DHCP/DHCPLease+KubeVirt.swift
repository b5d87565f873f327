import VirtAPI

extension DHCPLease {
    /// The options a VMI interface's `dhcpOptions` asks for (``DHCPOptions``): `bootFileName` → 67,
    /// `tftpServerName` → 66, `ntpServers` → 42, each private option → its code with the text's bytes.
    /// `path` names the field in errors (e.g. `spec.domain.devices.interfaces[0].dhcpOptions`).
    public static func options(kubeVirtDHCPOptions value: JSONValue?, path: String = "dhcpOptions") throws(DHCPError) -> [DHCPOption] {
        let parsed: DHCPOptions
        do {
            parsed = try DHCPOptions(parsing: value, path: path)
        } catch {
            throw .invalidLease("\(error.field) \(error.message)")
        }
        var options: [DHCPOption] = []
        if let server = parsed.tftpServerName { options.append(.text(.tftpServerName, server)) }
        if let file = parsed.bootFileName { options.append(.text(.bootFileName, file)) }
        if !parsed.ntpServers.isEmpty { options.append(.addresses(.ntpServers, parsed.ntpServers)) }
        for option in parsed.privateOptions { options.append(.text(DHCPOption.Code(option.code), option.value)) }
        return options
    }
}
