import NIOCore

/// Reads DHCP datagrams on one responder socket and broadcasts the answers (a client without an address
/// listens on a raw socket and takes broadcasts; no ARP entry is needed). Datagrams that are not DHCP,
/// or not for the served MAC, are dropped.
final class DHCPResponderHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let assignment: DHCPResponder.Assignment
    private let destination: SocketAddress

    init(assignment: DHCPResponder.Assignment, destination: SocketAddress) {
        self.assignment = assignment
        self.destination = destination
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let request = try? DHCPMessage(bytes: envelope.data.readableBytesView) else { return }
        let (lease, clientMAC) = assignment.current
        guard let reply = DHCPResponder.reply(to: request, lease: lease, clientMAC: clientMAC) else { return }
        let buffer = context.channel.allocator.buffer(bytes: reply.encoded())
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: destination, data: buffer)), promise: nil)
    }

    /// A failed send (the device went down) or read must not close the socket: the client retries.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
