import VirtAPI
import VirtError

/// A CNI network configuration list (a "conflist"): the plugins a network runs, in order, with the
/// version and network name they all receive. A single network configuration (a "conf", one object with
/// a `type`) is read as a list of that one plugin, as the spec says.
///
/// Every field the runtime does not read is kept (`json`, `Plugin.json`), so a plugin receives its
/// configuration exactly as written.
public struct CNINetworkConfigList: Sendable, Equatable, Hashable {
    /// One plugin of the list.
    public struct Plugin: Sendable, Equatable, Hashable {
        /// The plugin's `type`: the name of its executable in one of the plugin directories.
        public let type: String
        /// The capabilities the plugin declares (`"capabilities": {"mac": true}`): only these runtime
        /// arguments are passed to it, under `runtimeConfig`.
        public let capabilities: Set<String>
        /// The plugin's object as written (for a single conf: the whole conf).
        public let json: [String: JSONValue]
    }

    /// The version every plugin is run with (`cniVersion`).
    public let cniVersion: String
    /// The network's name (`name`), passed to every plugin.
    public let name: String
    /// `disableCheck`: CHECK is not run for this network.
    public let disableCheck: Bool
    /// The plugins in ADD order (never empty).
    public let plugins: [Plugin]
    /// The list as a conflist object, unknown fields kept; a single conf appears as
    /// `{"cniVersion", "name", "plugins": [conf]}`.
    public let json: JSONValue

    /// Reads a conf or conflist. Errors name the field to fix.
    public init(json: JSONValue) throws(CNIError) {
        let fail: (String, String) -> CNIError = { .invalidConfig(field: $0, reason: $1) }
        let top = try CNIFieldReader(json, at: "", failure: fail)
        cniVersion = try top.requiredString("cniVersion")
        guard CNIError.supportedVersions.contains(cniVersion) else {
            throw .unsupportedVersion(version: cniVersion, field: "cniVersion", supported: CNIError.supportedVersions)
        }
        name = try top.requiredString("name")
        try Self.validateName(name)
        if top.value("plugins") != nil {
            let objects = try top.objects("plugins")
            guard !objects.isEmpty else { throw .invalidConfig(field: "plugins", reason: "must name at least one plugin") }
            plugins = try objects.map { reader throws(CNIError) in try Self.plugin(reader) }
            disableCheck = try Self.flag(top, "disableCheck")
            self.json = json
        } else {
            guard top.value("type") != nil else {
                throw .invalidConfig(field: "type", reason: "is required (or give a \"plugins\" list for a configuration list)")
            }
            plugins = [try Self.plugin(top)]
            disableCheck = false
            self.json = ["cniVersion": .string(cniVersion), "name": .string(name), "plugins": [json]]
        }
    }

    /// Parses conf or conflist JSON text.
    public static func parse(_ text: String) throws(CNIError) -> CNINetworkConfigList {
        try parse(Array(text.utf8))
    }

    /// Parses conf or conflist JSON bytes.
    public static func parse(_ bytes: [UInt8]) throws(CNIError) -> CNINetworkConfigList {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .invalidConfig(field: "", reason: "the configuration is not JSON: \(error.message)")
        }
        return try CNINetworkConfigList(json: value)
    }

    /// The list as compact JSON (sorted keys), the form stored in attachment records.
    public func serialized() -> String { json.serialized() }

    private static func plugin(_ reader: CNIFieldReader) throws(CNIError) -> Plugin {
        let type = try reader.requiredString("type")
        try validateType(type, field: reader.field("type"))
        if let ipam = try reader.object("ipam"), let ipamType = try ipam.string("type") {
            try validateType(ipamType, field: ipam.field("type"))
        }
        var capabilities: Set<String> = []
        if let declared = try reader.object("capabilities") {
            for key in declared.members.keys.sorted() where try declared.bool(key) == true {
                capabilities.insert(key)
            }
        }
        return Plugin(type: type, capabilities: capabilities, json: reader.members)
    }

    /// `true`/`false`, or those words as strings (libcni reads both).
    private static func flag(_ reader: CNIFieldReader, _ key: String) throws(CNIError) -> Bool {
        switch reader.value(key) {
        case nil: return false
        case .bool(let value): return value
        case .string("true"): return true
        case .string("false"): return false
        case let value?: throw .invalidConfig(field: reader.field(key), reason: "must be true or false, not \(value.serialized())")
        }
    }

    /// The spec's rule: a letter or digit, then letters, digits, `_`, `.` or `-`. (The name becomes part
    /// of paths, such as host-local's `/var/lib/cni/networks/<name>`.)
    static func validateName(_ name: String) throws(CNIError) {
        guard !name.isEmpty else { throw .invalidConfig(field: "name", reason: "must not be empty") }
        guard isIdentifier(name) else {
            throw .invalidConfig(field: "name", reason: "\"\(name)\" must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
        }
    }

    /// A plugin type names a file in a plugin directory: no `/`, not `.` or `..`.
    static func validateType(_ type: String, field: String) throws(CNIError) {
        guard !type.isEmpty else { throw .invalidConfig(field: field, reason: "must not be empty: name the plugin, e.g. \"bridge\"") }
        guard !type.contains("/"), type != ".", type != "..", !type.utf8.contains(0) else {
            throw .invalidConfig(field: field, reason: "\"\(type)\" must be the name of a plugin (without '/'), not a path")
        }
    }

    /// `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`, the spec's pattern for network names and container ids.
    static func isIdentifier(_ text: String) -> Bool {
        func alnum(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        let bytes = Array(text.utf8)
        guard let first = bytes.first, alnum(first) else { return false }
        return bytes.dropFirst().allSatisfy { alnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}

extension CNINetworkConfigList: Codable {
    /// Encoded as its conflist JSON; decoding validates it again.
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
