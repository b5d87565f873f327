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
