import VirtError

/// What went wrong with a CNI configuration or a CNI plugin, in words a user can act on. Thrown as the
/// `cause` of a `VirtError` whose code follows from the case (see `code`) and whose message says what
/// was being done (`CNI ADD of network "blue" on net1 of container c1`).
public enum CNIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A configuration (list) field is missing or wrong; `field` is its JSON path (`plugins[1].type`).
    case invalidConfig(field: String, reason: String)
    /// A `cniVersion` this runtime does not speak, at `field` (`cniVersion`, or a result's).
    case unsupportedVersion(version: String, field: String, supported: [String])
    /// A value of the attachment (container id, interface name, CNI_ARGS) cannot be passed to a plugin.
    case invalidAttachment(field: String, reason: String)
    /// No executable named after the plugin's `type` in any of the plugin directories.
    case pluginNotFound(type: String, searched: [String])
    /// The plugin exited non-zero. `code` and `message`/`details` are the plugin's error JSON
    /// (`{"code":7,"msg":…,"details":…}` on stdout); without it, `code` is nil and `message` is its
    /// stderr (or stdout) text with the exit status.
    case pluginFailed(type: String, command: String, code: Int?, message: String, details: String)
    /// The plugin (or a stored record) gave a result that is not a CNI result this runtime reads.
    case badResult(type: String?, detail: String)

    /// The CNI versions the runtime runs plugins with (and accepts in a configuration).
    public static let supportedVersions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]

    public var description: String {
        switch self {
        case .invalidConfig(let field, let reason):
            "invalid CNI configuration: " + (field.isEmpty ? reason : "\(field) \(reason)")
        case .unsupportedVersion(let version, let field, let supported):
            "\(field) \"\(version)\" is not supported: use one of \(supported.joined(separator: ", "))"
        case .invalidAttachment(let field, let reason):
            "invalid CNI attachment: \(field) \(reason)"
        case .pluginNotFound(let type, let searched):
            "CNI plugin \"\(type)\" not found in \(searched.joined(separator: ", ")): install it there (Debian: containernetworking-plugins) or fix the plugin's \"type\""
        case .pluginFailed(let type, let command, let code, let message, let details):
            "plugin \(type) failed \(command)"
                + (code.map { " with CNI error code \($0)\(Self.meaning(ofCode: $0).map { " (\($0))" } ?? "")" } ?? "")
                + (message.isEmpty ? "" : ": \(message)")
                + (details.isEmpty ? "" : " (\(details))")
        case .badResult(let type, let detail):
            (type.map { "plugin \($0) returned an unreadable CNI result: " } ?? "unreadable CNI result: ") + detail
        }
    }

    /// What the spec's well-known error codes mean (nil for a plugin's own codes, 100 and up).
    public static func meaning(ofCode code: Int) -> String? {
        switch code {
        case 1: "incompatible CNI version"
        case 2: "unsupported field in network configuration"
        case 3: "container unknown or does not exist"
        case 4: "invalid necessary environment variables"
        case 5: "I/O failure"
        case 6: "failed to decode content"
        case 7: "invalid network config"
        case 11: "try again later"
        case 50: "plugin not available"
        case 51: "plugin not available, existing containers may have limited connectivity"
        default: nil
        }
    }

    /// The `VirtError` code this failure maps to.
    public var code: VirtError.Code {
        switch self {
        case .invalidConfig, .unsupportedVersion, .invalidAttachment: .invalid
        case .pluginNotFound: .serviceUnavailable
        case .pluginFailed(_, _, let code, _, _):
            switch code {
            case 1, 2, 7: .invalid
            case 11, 50, 51: .serviceUnavailable
            default: .internal
            }
        case .badResult: .internal
        }
    }

    /// This error wrapped as SwiftVirt's error type; `context` says what was being done.
    public func wrapped(_ context: String) -> VirtError {
        VirtError(code, context, cause: self)
    }
}

extension VirtError {
    /// The CNI failure behind this error, if it is one.
    public var cniError: CNIError? { cause as? CNIError }
}
