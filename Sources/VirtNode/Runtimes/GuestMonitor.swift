import VirtAPI
import VirtError
import VirtQEMU

/// One control session with a guest's QEMU: its run state, the commands the agent sends, and the events
/// QEMU reports. QMP over the pod's socket today (``QMPClient``).
public protocol GuestMonitor: Sendable {
    /// QEMU's run state (`running`, `paused`, `io-error`, `internal-error`, `guest-panicked`,
    /// `shutdown`, `inmigrate`, …) and whether the guest's CPUs run.
    func queryStatus() async throws(VirtError) -> (running: Bool, status: String)
    /// Pauses the guest's CPUs.
    func stop() async throws(VirtError)
    /// Resumes the guest's CPUs.
    func cont() async throws(VirtError)
    /// Presses the ACPI power button.
    func systemPowerdown() async throws(VirtError)
    /// Sends a key combination (QEMU `qcode` names, e.g. `["ctrl", "alt", "delete"]`).
    func sendKeys(_ keys: [String]) async throws(VirtError)
    /// QEMU's events in order; finishes when the session ends (QEMU exited or the socket closed).
    var events: AsyncStream<QMPEvent> { get }
    /// Ends the session.
    func close()
}

/// Opens monitor sessions.
public protocol GuestMonitorConnector: Sendable {
    /// Connects to the monitor socket at `socketPath`, waiting up to `timeout` for QEMU to listen.
    func connect(socketPath: String, timeout: Duration) async throws(VirtError) -> any GuestMonitor
}

/// A QMP session as the agent uses it: every command gives up after `timeout`, so a wedged QEMU cannot
/// hold a pass (and with it a deletion) forever.
public struct QMPMonitor: GuestMonitor {
    let client: QMPClient
    let timeout: Duration

    public init(client: QMPClient, timeout: Duration = .seconds(5)) {
        self.client = client
        self.timeout = timeout
    }

    public func queryStatus() async throws(VirtError) -> (running: Bool, status: String) { try await client.queryStatus(timeout: timeout) }

    public func stop() async throws(VirtError) { try await client.stop(timeout: timeout) }

    public func cont() async throws(VirtError) { try await client.cont(timeout: timeout) }

    public func systemPowerdown() async throws(VirtError) { try await client.systemPowerdown(timeout: timeout) }

    public func sendKeys(_ keys: [String]) async throws(VirtError) { try await client.sendKeys(keys, timeout: timeout) }

    public var events: AsyncStream<QMPEvent> { client.events }

    public func close() { client.close() }
}

/// Sessions over QMP unix sockets.
public struct QMPConnector: GuestMonitorConnector {
    public init() {}

    public func connect(socketPath: String, timeout: Duration) async throws(VirtError) -> any GuestMonitor {
        QMPMonitor(client: try await QMPClient.connect(to: socketPath, timeout: timeout))
    }
}
