import NIOCore
import NIOPosix
import Synchronization

/// The node agent's DHCP server for its VMs: per (pod network namespace, device) one UDP socket on port
/// 67, made inside the pod's namespace and read on NIO's event loops, that answers the one guest MAC its
/// lease is for. No helper process runs per VM.
///
/// A socket keeps its network namespace alive: stop a pod's responders (`stopAll(namespacePath:)`)
/// before removing its namespace, or the namespace lingers until the agent exits.
public actor DHCPResponder {
    /// Names one served (namespace, device); `serve` with the same pair returns the same handle.
    public struct Handle: Sendable, Hashable, CustomStringConvertible {
        public let namespacePath: String
        public let device: String

        public var description: String { "\(device) in \(namespacePath)" }
    }

    /// What one socket answers with; swapped in place when `serve` is called again for its handle.
    final class Assignment: Sendable {
        private let state: Mutex<(lease: DHCPLease, clientMAC: DHCPHardwareAddress)>

        init(lease: DHCPLease, clientMAC: DHCPHardwareAddress) { state = Mutex((lease, clientMAC)) }

        var current: (lease: DHCPLease, clientMAC: DHCPHardwareAddress) { state.withLock { $0 } }

        func update(lease: DHCPLease, clientMAC: DHCPHardwareAddress) { state.withLock { $0 = (lease, clientMAC) } }
    }

    private struct Served {
        var channel: any Channel
        var assignment: Assignment
    }

    private let group: any EventLoopGroup
    private var served: [Handle: Served] = [:]

    /// - Parameter group: where the sockets are read; NIO's shared group unless a test brings its own.
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    /// Starts answering `clientMAC` with `lease` on `device` in the network namespace at `namespacePath`
    /// (a file such as `/var/run/netns/NAME`). Serving a pair again replaces its lease and MAC on the
    /// running socket.
    ///
    /// - Throws: `DHCPError`: the lease is invalid, the namespace or the device is missing, or the socket
    ///   could not be made (e.g. another server holds port 67 on the device).
    @discardableResult
    public func serve(lease: DHCPLease, clientMAC: DHCPHardwareAddress, device: String, namespacePath: String) async throws -> Handle {
        try lease.validate()
        let handle = Handle(namespacePath: namespacePath, device: device)
        if let existing = served[handle] {
            existing.assignment.update(lease: lease, clientMAC: clientMAC)
            return handle
        }
        let fd = try await Self.openSocket(device: device, namespacePath: namespacePath)
        let assignment = Assignment(lease: lease, clientMAC: clientMAC)
        let destination = try SocketAddress(ipAddress: DHCPAddress.broadcast.description, port: Self.clientPort)
        // The future-returning `withBoundSocket`: its async sibling registers a datagram socket through a
        // path that fails with "operation unsupported" (NIO 2.101).
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DHCPResponderHandler(assignment: assignment, destination: destination))
                }
            }
            .withBoundSocket(fd)
            .get()
        // Another `serve` for the same pair may have finished while this one waited: keep the first socket.
        if let existing = served[handle] {
            try? await channel.close()
            existing.assignment.update(lease: lease, clientMAC: clientMAC)
            return handle
        }
        served[handle] = Served(channel: channel, assignment: assignment)
        return handle
    }

    /// Closes the socket of `handle`; nothing when it is not served.
    public func stop(_ handle: Handle) async {
        guard let entry = served.removeValue(forKey: handle) else { return }
        try? await entry.channel.close()
    }

    /// Closes every socket in the namespace at `namespacePath` (a pod going away).
    public func stopAll(namespacePath: String) async {
        for handle in served.keys where handle.namespacePath == namespacePath { await stop(handle) }
    }

    /// Closes every socket (the agent shutting down).
    public func stopAll() async {
        for handle in served.keys { await stop(handle) }
    }

    /// What is served now.
    public var handles: Set<Handle> { Set(served.keys) }

    /// The lease `handle` answers with; `nil` when it is not served.
    public func lease(for handle: Handle) -> DHCPLease? { served[handle]?.assignment.current.lease }

    /// The client port replies go to.
    static let clientPort = 68
}
