import VirtError

/// `--dry-run=none|server|client`.
public enum DryRunMode: String, Sendable, Equatable {
    /// Really write.
    case none
    /// Send the write with `dryRun=All`: the server validates but stores nothing.
    case server
    /// Write nothing and only report what would happen.
    case client

    /// Parses the flag's value (`true` is kubectl's old spelling of `client`).
    public init(_ text: String) throws(VirtError) {
        switch text.lowercased() {
        case "", "none", "false": self = .none
        case "server": self = .server
        case "client", "true": self = .client
        default: throw VirtError(.badRequest, "invalid --dry-run \"\(text)\": use none, server or client")
        }
    }
}
