import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import VirtAPI
import VirtError
import VirtStore
import X509

/// The API server's side of node agents' HTTPS endpoints. A node is found by its Node object: the
/// `InternalIP` address and `status.daemonEndpoints.kubeletEndpoint.Port`. The API server presents its
/// own certificate (issued by the cluster CA for server and client use) and accepts only a certificate the
/// same CA issued to that node (`system:node:NAME`).
public struct NodeAgentClient: NodeStreams {
    let store: any RevisionedStore
    let context: NIOSSLContext

    public init(store: any RevisionedStore, credentials: ServerCredentials) throws {
        self.store = store
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(credentials.caPEM.utf8)))
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(credentials.certificatePEM.utf8)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(credentials.privateKeyPEM.utf8), format: .pem))
        // The chain is checked against the cluster CA; the name is checked below, against the node's.
        tls.certificateVerification = .noHostnameVerification
        context = try NIOSSLContext(configuration: tls)
    }

    // MARK: - NodeStreams

    public func openStream(_ stream: GuestStream, node: String, namespace: String, pod: String) async throws -> GuestConnection {
        let request = "GET /v1/namespaces/\(namespace)/pods/\(pod)/\(stream.rawValue) HTTP/1.1\r\nHost: \(node)\r\n"
            + "Connection: Upgrade\r\nUpgrade: \(NodeEndpointWire.streamProtocol)\r\n\r\n"
        let (channel, answer) = try await connect(node: node, stream: true) { channel in
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
        channel.channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
        do {
            let (status, body) = try await answer.get()
            guard status == 101 else { throw NodeEndpointWire.error(status: status, body: body, node: node) }
            return GuestConnection(channel: channel)
        } catch {
            // An async channel ends through its own close, not by being dropped.
            try? await channel.executeThenClose { _, _ in }
            throw error
        }
    }

    public func exec(node: String, namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> ExecOutcome {
        var body: JSONValue = ["command": .array(command.map { .string($0) })]
        if let stdin { body["stdin"] = .string(Data(stdin).base64EncodedString()) }
        let answer = try await call(node: node, method: "POST", path: "/v1/namespaces/\(namespace)/pods/\(pod)/exec", body: body.serializedBytes(),
                                    timeout: .minutes(10))
        let value = try JSONValue.parse(answer[...])
        func bytes(_ key: String) -> [UInt8] { value[key]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? [] }
        return ExecOutcome(stdout: bytes("stdout"), stderr: bytes("stderr"), exitCode: Int32(truncatingIfNeeded: value["exitCode"]?.intValue ?? -1))
    }

    public func carryOut(_ verb: String, node: String, namespace: String, name: String) async throws {
        _ = try await call(node: node, method: "PUT", path: "/v1/namespaces/\(namespace)/virtualmachineinstances/\(name)/\(verb)", body: [])
    }

    // MARK: - Wire

    /// One request and its whole answer; a non-2xx answer is the agent's `Status` as a `VirtError`.
    func call(node: String, method: String, path: String, body: [UInt8], timeout: TimeAmount = .seconds(30)) async throws -> [UInt8] {
        let (channel, answer) = try await connect(node: node, stream: false, timeout: timeout) { $0 }
        var request = ByteBuffer(string: "\(method) \(path) HTTP/1.1\r\nHost: \(node)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n")
        request.writeBytes(body)
        channel.writeAndFlush(request, promise: nil)
        defer { channel.close(promise: nil) }
        let (status, bytes) = try await answer.get()
        guard (200..<300).contains(status) else { throw NodeEndpointWire.error(status: status, body: bytes, node: node) }
        return bytes
    }

    /// A TLS connection to the node's endpoint, its certificate checked to be the node's, and the future of
    /// its answer (for a stream: the 101, after which the channel carries the guest's bytes).
    func connect<Connection: Sendable>(node: String, stream: Bool, timeout: TimeAmount = .seconds(30), _ wrap: @escaping @Sendable (Channel) throws -> Connection) async throws
        -> (Connection, EventLoopFuture<(Int, [UInt8])>)
    {
        let (host, port) = try await address(of: node)
        let context = self.context
        let expected = "system:node:\(node)"
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let tls = try NIOSSLClientHandler(context: context, serverHostname: nil)
                        let promise = channel.eventLoop.makePromise(of: (Int, [UInt8]).self)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        try channel.pipeline.syncOperations.addHandler(AnswerHandler(stream: stream, expectedPeer: expected, node: node, timeout: timeout, promise: promise))
                        return (try wrap(channel), promise.futureResult)
                    }
                }
        } catch let error as VirtError {
            throw error
        } catch {
            throw VirtError(.serviceUnavailable, "cannot reach the node agent of node \(node) at \(host):\(port): \(error)")
        }
    }

    /// Reads the agent's answer: its status and whole body, or — for a stream — the 101, after which it
    /// passes every byte on (those that came with the 101 first) and leaves the pipeline.
    final class AnswerHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        let stream: Bool
        /// The common name the node's certificate must carry (`system:node:NAME`).
        let expectedPeer: String
        let node: String
        let promise: EventLoopPromise<(Int, [UInt8])>
        private var collected = ByteBuffer()
        private var head: NodeEndpointWire.Head?
        private var done = false

        /// How long the agent may take to answer (exec runs a command to completion, so it gets longer).
        let timeout: TimeAmount
        private var deadline: Scheduled<Void>?

        init(stream: Bool, expectedPeer: String, node: String, timeout: TimeAmount, promise: EventLoopPromise<(Int, [UInt8])>) {
            self.stream = stream
            self.expectedPeer = expectedPeer
            self.node = node
            self.timeout = timeout
            self.promise = promise
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let channel = context.channel
            // Runs on the channel's event loop, as every other use of `done`.
            deadline = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
                guard let self, !self.done else { return }
                self.done = true
                self.promise.fail(VirtError(.timeout, "the node agent of \(self.node) did not answer within \(self.timeout.nanoseconds / 1_000_000_000) s"))
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { [weak self] _ in self?.deadline?.cancel() }
        }

        /// The chain was checked against the cluster CA during the handshake; here, that it is this node's.
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                let peer = (try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self))?.peerCertificate
                let name = peer.flatMap(NodeAgentClient.commonName(of:))
                if name != expectedPeer, !done {
                    done = true
                    promise.fail(VirtError(.serviceUnavailable, "the endpoint of node \(node) presented the certificate of \(name ?? "nobody"), not of \(expectedPeer)"))
                    context.close(promise: nil)
                    return
                }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if done {
                context.fireChannelRead(data)
                return
            }
            collected.writeBuffer(&buffer)
            do {
                if head == nil {
                    guard let (parsed, length) = try NodeEndpointWire.parseHead(collected) else { return }
                    head = parsed
                    collected.moveReaderIndex(forwardBy: length)
                }
                guard let head else { return }
                if stream, head.status == 101 {
                    done = true
                    promise.succeed((101, []))
                    let rest = collected
                    collected = ByteBuffer()
                    if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
                    context.pipeline.syncOperations.removeHandler(self, promise: nil)
                    return
                }
                let wanted = head.contentLength ?? 0
                guard wanted <= NodeEndpointWire.maximumBody else { throw VirtError(.serviceUnavailable, "the node agent's answer is too large") }
                if collected.readableBytes >= wanted {
                    done = true
                    promise.succeed((head.status, Array(collected.readableBytesView.prefix(wanted))))
                }
            } catch {
                done = true
                promise.fail(error)
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !done {
                done = true
                promise.fail(VirtError(.serviceUnavailable, "the node agent closed the connection before answering"))
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if !done {
                done = true
                promise.fail(VirtError(.serviceUnavailable, "the node agent's endpoint failed: \(error)"))
            }
            context.close(promise: nil)
        }
    }

    /// The subject's common name of a peer certificate.
    static func commonName(of certificate: NIOSSLCertificate) -> String? {
        guard let bytes = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: bytes) else { return nil }
        for relative in parsed.subject {
            for attribute in relative where attribute.type == .RDNAttributeType.commonName {
                return String(attribute.value)
            }
        }
        return nil
    }

    /// The node's InternalIP and endpoint port, from its Node object.
    func address(of node: String) async throws -> (String, Int) {
        let nodes = Registry.standard.resource(group: "", version: "v1", plural: "nodes")?.storeResource ?? "/nodes"
        guard let object = try await store.get(StoreKey(resource: nodes, namespace: "", name: node))?.object else {
            throw VirtError(.serviceUnavailable, "node \(node) is not registered; its node agent is not running")
        }
        let addresses = object[path: ["status", "addresses"]]?.arrayValue ?? []
        let host = addresses.first { $0["type"]?.stringValue == "InternalIP" }?["address"]?.stringValue ?? "127.0.0.1"
        guard let port = object[path: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"]]?.intValue, port > 0 else {
            throw VirtError(.serviceUnavailable, "node \(node) reports no endpoint (status.daemonEndpoints.kubeletEndpoint.Port); is its node agent running?")
        }
        return (host, Int(port))
    }
}

/// The few pieces of HTTP/1.1 the API server reads from node agents' answers (their own server: whole
/// bodies with a Content-Length).
enum NodeEndpointWire {
    static let streamProtocol = "swiftvirt-stream"
    static let maximumBody = 64 << 20

    struct Head {
        var status: Int
        var contentLength: Int?
    }

    /// The head at the front of `buffer` and its length with the blank line, `nil` while incomplete.
    static func parseHead(_ buffer: ByteBuffer) throws -> (Head, Int)? {
        let view = buffer.readableBytesView
        guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
            guard view.count < 64 * 1024 else { throw VirtError(.serviceUnavailable, "the node agent's answer has no end of headers") }
            return nil
        }
        let text = String(decoding: view[..<end.lowerBound], as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw VirtError(.serviceUnavailable, "the node agent answered with something other than HTTP: \(text.prefix(80))")
        }
        var length: Int?
        for line in lines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "content-length" {
                length = Int(pair[1].trimmingCharacters(in: .whitespaces))
            }
        }
        return (Head(status: status, contentLength: length), end.upperBound - view.startIndex)
    }

    /// The agent's `Status` answer as the error the API server passes on.
    static func error(status: Int, body: [UInt8], node: String) -> VirtError {
        let value = try? JSONValue.parse(body[...])
        let message = value?["message"]?.stringValue ?? "the node agent of \(node) answered \(status)"
        let code: VirtError.Code = switch status {
        case 400: .badRequest
        case 404: .notFound
        case 409: .conflict
        case 422: .invalid
        case 503: .serviceUnavailable
        default: .internal
        }
        return VirtError(code, message)
    }
}
