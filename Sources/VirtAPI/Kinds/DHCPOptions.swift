/// KubeVirt `DHCPOptions` (an interface's `dhcpOptions`): what the guest's DHCP answers carry besides its
/// address. `bootFileName` and `tftpServerName` are text, `ntpServers` IPv4 addresses, `privateOptions`
/// codes of the private range (224…254) with a text value each.
public struct DHCPOptions: Sendable, Equatable {
    public struct PrivateOption: Sendable, Equatable {
        public var code: UInt8
        public var value: String
    }

    /// What is wrong with the given options: the field (under the path given to the parser) and why.
    public struct Problem: Error, Sendable, Equatable {
        public var field: String
        public var message: String
    }

    /// The private option codes a guest may be given: the ones RFC 2132 leaves for site-specific use.
    public static let privateCodes: ClosedRange<UInt8> = 224...254

    public var bootFileName: String?
    public var tftpServerName: String?
    public var ntpServers: [IPv4Address] = []
    public var privateOptions: [PrivateOption] = []

    /// Reads `value` (absent or null: no options). `path` prefixes the field of a problem, e.g.
    /// `spec.domain.devices.interfaces[0].dhcpOptions`.
    public init(parsing value: JSONValue?, path: String = "dhcpOptions") throws(Problem) {
        guard let value, !value.isNull else { return }
        guard let object = value.objectValue else { throw Problem(field: path, message: "must be an object") }
        let known = ["bootFileName", "tftpServerName", "ntpServers", "privateOptions"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem(field: "\(path).\(unknown)", message: "is not a DHCP option field (\(known.joined(separator: ", ")))")
        }
        func text(_ key: String) throws(Problem) -> String? {
            guard let field = object[key], !field.isNull else { return nil }
            guard let string = field.stringValue else { throw Problem(field: "\(path).\(key)", message: "must be a string") }
            return string.isEmpty ? nil : string
        }
        tftpServerName = try text("tftpServerName")
        bootFileName = try text("bootFileName")
        if let field = object["ntpServers"], !field.isNull {
            guard let list = field.arrayValue else {
                throw Problem(field: "\(path).ntpServers", message: "must be a list of IPv4 addresses")
            }
            for (index, entry) in list.enumerated() {
                guard let text = entry.stringValue, let address = IPv4Address(text) else {
                    throw Problem(field: "\(path).ntpServers[\(index)]", message: "must be an IPv4 address such as 192.0.2.123")
                }
                ntpServers.append(address)
            }
        }
        if let field = object["privateOptions"], !field.isNull {
            guard let list = field.arrayValue else {
                throw Problem(field: "\(path).privateOptions", message: "must be a list of {option, value}")
            }
            for (index, entry) in list.enumerated() {
                let at = "\(path).privateOptions[\(index)]"
                guard let number = entry.objectValue?["option"]?.intValue, let code = UInt8(exactly: number), Self.privateCodes.contains(code) else {
                    throw Problem(field: "\(at).option", message: "must be a number from 224 to 254 (the private DHCP option codes)")
                }
                guard let text = entry.objectValue?["value"]?.stringValue else {
                    throw Problem(field: "\(at).value", message: "must be a string")
                }
                guard !privateOptions.contains(where: { $0.code == code }) else {
                    throw Problem(field: "\(at).option", message: "\(code) is given twice")
                }
                privateOptions.append(PrivateOption(code: code, value: text))
            }
        }
    }
}
