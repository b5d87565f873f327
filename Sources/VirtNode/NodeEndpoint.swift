import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import VirtAPI
import VirtError
import VirtReconcile

/// The node agent's HTTPS endpoint, which the API server calls for what only the node can do (as
/// KubeVirt's virt-api calls virt-handler): pause, unpause and soft reboot of a guest, answered once they
/// took effect; exec in a launcher pod; and the serial console and VNC display as byte streams (an HTTP
/// upgrade to `swiftvirt-stream`). TLS both ways: the agent serves the certificate the cluster CA issued
/// it, and admits only clients whose certificate the same CA issued for client use (the API server's).
///
/// Routes (`NS` a namespace, `NAME` a VMI, `POD` a launcher pod):
/// - `PUT /v1/namespaces/NS/virtualmachineinstances/NAME/{pause,unpause,softreboot}` → 200, or a `Status`
/// - `POST /v1/namespaces/NS/pods/POD/exec` with `{"command": [...], "stdin": BASE64?}` →
///   `{"stdout": BASE64, "stderr": BASE64, "exitCode": N}`
/// - `GET /v1/namespaces/NS/pods/POD/{console,vnc}` with `Upgrade: swiftvirt-stream` → 101, then raw bytes
/// - `POST /v1/namespaces/NS/persistentvolumeclaims/NAME/upload` with the image as the body (streamed into the
///   importer, ``UploadReceiver``) → 200 once the image is complete, or a `Status`
public final class NodeEndpoint: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0: any free port (the Node's `status.daemonEndpoints.kubeletEndpoint.Port` says which).
        public var port: Int
        public var certificate: NodeServingCertificate
        public var caPEM: String

        public init(host: String, port: Int, certificate: NodeServingCertificate, caPEM: String) {
            self.host = host
            self.port = port
            self.certificate = certificate
            self.caPEM = caPEM
        }
    }

    /// The protocol name of the stream upgrade.
    public static let streamProtocol = "swiftvirt-stream"

    let handler: VirtualMachineHandler
    let streams: PodStreams
    /// Receives uploads into claims (``UploadReceiver``) and, as a reconciler, makes them ready; nil: not served.
    public let uploads: VolumeUploadHandler?
    let configuration: Configuration
    let logger: Logger
    let channel: Channel

    /// Binds the endpoint (so its port is known before the Node is reported); `run()` serves it.
    public init(handler: VirtualMachineHandler, streams: PodStreams, configuration: Configuration, logger: Logger,
                uploads: VolumeUploadHandler? = nil) async throws {
        self.handler = handler
        self.streams = streams
        self.uploads = uploads
        self.configuration = configuration
        self.logger = logger
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(configuration.certificate.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(configuration.certificate.privateKeyPEM.utf8), format: .pem)))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(configuration.caPEM.utf8)))
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)
        let routes = Routes(handler: handler, streams: streams, logger: logger)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: .seconds(10)))
                    let requests = RequestHandler(routes: routes, uploads: uploads)
                    let upgrader = StreamUpgrader(streams: streams)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.removeHandler(requests, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(requests)
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
    }

    /// The port the endpoint listens on.
    public var port: Int { channel.localAddress?.port ?? configuration.port }

    public func run() async throws {
        logger.info("node endpoint listening on \(configuration.host):\(port)")
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: { [channel] in
            channel.close(promise: nil)
        }
    }

    /// What each route does, away from the wire.
    struct Routes: Sendable {
        let handler: VirtualMachineHandler
        let streams: PodStreams
        let logger: Logger

        /// The answer to one request: status code and body.
        func answer(method: HTTPMethod, path: String, body: [UInt8]) async -> (HTTPResponseStatus, [UInt8]) {
            do {
                let parts = path.split(separator: "/").map(String.init)
                guard parts.count == 6, parts[0] == "v1", parts[1] == "namespaces" else {
                    throw VirtError(.notFound, "the node agent serves no \(path)")
                }
                let (namespace, kind, name, verb) = (parts[2], parts[3], parts[4], parts[5])
                switch (method, kind, verb) {
                case (.PUT, "virtualmachineinstances", "pause"), (.PUT, "virtualmachineinstances", "unpause"), (.PUT, "virtualmachineinstances", "softreboot"):
                    try await handler.carryOut(verb, key: ObjectKey(namespace: namespace, name: name))
                    return (.ok, Array(#"{"kind":"Status","apiVersion":"v1","status":"Success"}"#.utf8))
                case (.POST, "pods", "exec"):
                    let request = try JSONValue.parse(body[...])
                    let command = request["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    guard !command.isEmpty else { throw VirtError(.badRequest, "exec needs a command") }
                    let stdin = request["stdin"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
                    let result = try await streams.exec(namespace: namespace, pod: name, command: command, stdin: stdin)
                    let answer: JSONValue = [
                        "stdout": .string(Data(result.stdout).base64EncodedString()),
                        "stderr": .string(Data(result.stderr).base64EncodedString()),
                        "exitCode": .int(Int64(result.exitCode)),
                    ]
                    return (.ok, answer.serializedBytes())
                case (.GET, "pods", "console"), (.GET, "pods", "vnc"):
                    // Not upgraded: say why (no socket yet), else how to ask.
                    _ = try streams.socketPath(vnc: verb == "vnc", namespace: namespace, pod: name)
                    throw VirtError(.badRequest, "\(path) is a stream: ask with Connection: Upgrade and Upgrade: \(NodeEndpoint.streamProtocol)")
                default:
                    throw VirtError(.notFound, "the node agent serves no \(method) \(path)")
                }
            } catch {
                let virtError = error as? VirtError ?? VirtError(.internal, "\(error)")
                let status: JSONValue = [
                    "kind": "Status", "apiVersion": "v1", "status": "Failure", "message": .string(virtError.message),
                    "reason": .string(virtError.code.rawValue), "code": .int(Int64(virtError.code.httpStatus)),
                ]
                return (HTTPResponseStatus(statusCode: virtError.code.httpStatus), status.serializedBytes())
            }
        }
    }

    /// Collects a request, has the routes answer it on a task, writes the answer.
    final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let routes: Routes
        /// Where `…/persistentvolumeclaims/NAME/upload` bodies go (``UploadReceiver``); nil: not served.
        let uploads: VolumeUploadHandler?

        init(routes: Routes, uploads: VolumeUploadHandler? = nil) {
            self.routes = routes
            self.uploads = uploads
        }

        /// The largest request body the endpoint reads (exec's standard input).
        static let maximumBody = 16 << 20

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                if let uploads, let (namespace, name) = UploadReceiver.claim(of: head.uri), head.method == .POST {
                    let receiver = UploadReceiver(context: context, uploads: uploads, namespace: namespace, name: name)
                    upload = receiver
                    receiver.start()
                    return
                }
                current = (head, [])
            case .body(let buffer):
                if let upload {
                    upload.receive(buffer)
                    return
                }
                if var request = current {
                    guard request.1.count + buffer.readableBytes <= Self.maximumBody else {
                        // Nothing the API server sends is this large.
                        current = nil
                        context.close(promise: nil)
                        return
                    }
                    request.1 += buffer.readableBytesView
                    current = request
                }
            case .end:
                if let upload {
                    upload.end()
                    return
                }
                guard let (head, body) = current else { return }
                current = nil
                let routes = self.routes
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
                let keepAlive = head.isKeepAlive
                Task {
                    let (status, answer) = await routes.answer(method: head.method, path: path, body: body)
                    loop.execute {
                        let context = bound.value
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: "application/json")
                        headers.add(name: "Content-Length", value: String(answer.count))
                        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: answer)))), promise: nil)
                        let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
                        if !keepAlive { written.whenComplete { _ in bound.value.close(promise: nil) } }
                    }
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            upload?.connectionEnded()
            context.fireChannelInactive()
        }

        /// The upload being received; touched only on the channel's event loop.
        nonisolated(unsafe) private var upload: UploadReceiver?

        /// The request being read; touched only on the channel's event loop.
        nonisolated(unsafe) private var current: (HTTPRequestHead, [UInt8])?
    }
}
