import NIOCore
import Synchronization
import VirtError

extension NodeAgentClient: VolumeUploads {
    /// `POST /v1/namespaces/NS/persistentvolumeclaims/NAME/upload` on the node's endpoint, the body written
    /// a part at a time as the client's arrive (each write waited for, so the client goes no faster than
    /// the agent takes it), chunked when the client gave no length. A client that stops halfway makes this
    /// hang up on the agent, which then drops what it received.
    func upload<Body: AsyncSequence & Sendable>(node: String, namespace: String, claim: String, contentLength: Int?, body: Body) async throws
        where Body.Element == ByteBuffer
    {
        let (channel, answer) = try await connect(node: node, stream: false, timeout: .hours(24)) { $0 }
        defer { channel.close(promise: nil) }
        let chunked = contentLength == nil
        let head = "POST /v1/namespaces/\(namespace)/persistentvolumeclaims/\(claim)/upload HTTP/1.1\r\nHost: \(node)\r\n"
            + "Content-Type: application/octet-stream\r\nConnection: close\r\n"
            + (contentLength.map { "Content-Length: \($0)\r\n" } ?? "Transfer-Encoding: chunked\r\n") + "\r\n"
        let answered = Atomic<Bool>(false)
        answer.whenComplete { _ in answered.store(true, ordering: .relaxed) }
        var parts = body.makeAsyncIterator()
        do {
            try await channel.writeAndFlush(ByteBuffer(string: head)).get()
            while !answered.load(ordering: .relaxed) {
                let part: ByteBuffer?
                do {
                    part = try await parts.next()
                } catch {
                    throw UploadCutOff(error: error)
                }
                guard var part else {
                    if chunked { try await channel.writeAndFlush(ByteBuffer(string: "0\r\n\r\n")).get() }
                    break
                }
                if part.readableBytes == 0 { continue }
                if chunked {
                    var framed = ByteBuffer(string: String(part.readableBytes, radix: 16) + "\r\n")
                    framed.writeBuffer(&part)
                    framed.writeString("\r\n")
                    part = framed
                }
                try await channel.writeAndFlush(part).get()
            }
        } catch let cut as UploadCutOff {
            throw VirtError(.badRequest, "the upload into \(namespace)/\(claim) was cut off: \(cut.error); nothing was kept, upload again")
        } catch {
            // The agent stopped taking bytes: its answer says why.
        }
        let (status, bytes) = try await answer.get()
        guard (200..<300).contains(status) else { throw NodeEndpointWire.error(status: status, body: bytes, node: node) }
    }

    private struct UploadCutOff: Error {
        var error: any Error
    }
}
