import VirtAPI

/// An asynchronous QMP event (`STOP`, `RESUME`, `SHUTDOWN`, `RESET`, `BLOCK_IO_ERROR`, …).
public struct QMPEvent: Sendable, Equatable {
    /// The event name, e.g. `SHUTDOWN`.
    public var name: String
    /// The event's `data` (an empty object when it has none).
    public var data: JSONValue
    /// When QEMU emitted it, in seconds since 1970 (microsecond resolution).
    public var timestamp: Double

    public init(name: String, data: JSONValue = .object([:]), timestamp: Double) {
        self.name = name
        self.data = data
        self.timestamp = timestamp
    }
}

/// QEMU's QMP greeting: the version it runs.
public struct QMPGreeting: Sendable, Equatable {
    public var major: Int
    public var minor: Int
    public var micro: Int
    /// The distribution's package version (`Debian 1:7.2+dfsg-7+deb12u18+b3`).
    public var package: String
    /// The capabilities QEMU offers (`oob`); SwiftVirt enables none.
    public var capabilities: [String]

    public var version: String { "\(major).\(minor).\(micro)" }

    public init(major: Int, minor: Int, micro: Int, package: String = "", capabilities: [String] = []) {
        self.major = major
        self.minor = minor
        self.micro = micro
        self.package = package
        self.capabilities = capabilities
    }
}
