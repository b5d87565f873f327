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
