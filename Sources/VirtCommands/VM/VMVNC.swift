import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import VirtClient
import VirtError

/// `swiftvirt vnc NAME`: serves the VMI's VNC display on a local TCP port, each connection carried over
/// the `vnc` websocket, and opens a VNC viewer on it when one is installed (`--proxy-only` just serves).
public struct VMVNC: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vnc", abstract: "Open a VNC connection to a virtual machine instance.")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The VirtualMachineInstance's name.") public var name: String
    @Option(help: "The local port to listen on (0: any free port).") public var port: Int = 0
    @Option(help: "The local address to listen on.") public var address: String = "127.0.0.1"
    @Flag(help: "Only serve the port (printed as JSON); do not start a viewer.") public var proxyOnly = false

    public init() {}

    static let viewers = ["remote-viewer", "vncviewer", "gvncviewer", "xtightvncviewer"]

    public func run() async throws {
        try await CommandContext.with(global) { context in
            let path = ResourcePath(group: "subresources.kubevirt.io", version: "v1", resource: "virtualmachineinstances",
                                    namespace: context.namespace, name: name, subresource: "vnc").urlPath
            let client = context.client
            // Check before listening, so a VMI that is absent or not running is reported at once.
            try await client.webSocket(path, subprotocols: ["plain.kubevirt.io"]) { _ in }
            let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let localPort = server.channel.localAddress?.port ?? port
            if proxyOnly {
                Terminal.print("{\"port\":\(localPort)}")
            } else if let viewer = Self.findViewer() {
                try Self.launch(viewer, port: localPort, address: address)
            } else {
                Terminal.print("VNC of \(name) is served on \(address):\(localPort); no viewer (\(Self.viewers.joined(separator: ", "))) was found, so point yours there. Ctrl-C ends.")
            }
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask {
                            try? await Self.carry(connection, over: client, path: path)
                        }
                    }
                }
            }
        }
    }

    /// Copies one local VNC connection to and from the websocket.
    static func carry(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, over client: KubeClient, path: String) async throws {
        try await connection.executeThenClose { fromViewer, toViewer in
            try await client.webSocket(path, subprotocols: ["plain.kubevirt.io"]) { session in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await session.receive { bytes in try await toViewer.write(ByteBuffer(bytes: bytes)) }
                    }
                    group.addTask {
                        for try await buffer in fromViewer { try await session.send(Array(buffer.readableBytesView)) }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    static func findViewer() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for viewer in viewers {
            for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(viewer)") {
                return "\(directory)/\(viewer)"
            }
        }
        return nil
    }

    static func launch(_ viewer: String, port: Int, address: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: viewer)
        process.arguments = viewer.hasSuffix("remote-viewer") ? ["vnc://\(address):\(port)"] : ["\(address)::\(port)"]
        try process.run()
    }
}
