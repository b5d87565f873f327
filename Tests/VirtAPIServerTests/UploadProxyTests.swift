import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
import VirtAPI
import VirtError
import VirtStore
import VirtTestSupport

@testable import VirtAPIServer

/// Stands in for the node agents: holds each upload until released, then reads its body and checks it
/// against the pattern the client sends.
final class FakeVolumeUploads: NodeStreams, VolumeUploads, Sendable {
    let release = AsyncStream<Void>.makeStream()
    let received = Mutex<(bytes: Int, wrong: Int, claim: String)>((0, 0, ""))

    func upload<Body: AsyncSequence & Sendable>(node: String, namespace: String, claim: String, contentLength: Int?, body: Body) async throws
        where Body.Element == ByteBuffer
    {
        var gate = release.stream.makeAsyncIterator()
        _ = await gate.next()
        var offset = 0, wrong = 0
        for try await part in body {
            // Every part's first and last bytes against the pattern (all of them would be slow in a debug build).
            let view = part.readableBytesView
            guard let first = view.first, let last = view.last else { continue }
            if first != UInt8(offset % 251) || last != UInt8((offset + view.count - 1) % 251) { wrong += 1 }
            offset += view.count
        }
        received.withLock { $0 = (offset, wrong, "\(namespace)/\(claim) on \(node)") }
    }

    func openStream(_ stream: GuestStream, node: String, namespace: String, pod: String) async throws -> GuestConnection {
        throw VirtError(.serviceUnavailable, "no streams here")
    }

    func exec(node: String, namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> ExecOutcome {
        throw VirtError(.serviceUnavailable, "no exec here")
    }

    func carryOut(_ verb: String, node: String, namespace: String, name: String) async throws {}
}

/// CDI's upload paths on the API server's port, over a real socket: the body streams to the node agent's
/// side with backpressure (a held upload stops the client, it does not fill memory), larger than the 64 MiB
/// limit of collected bodies; refusals are `Status` answers.
@Suite struct UploadProxyTests {
    static let size = 80 << 20

    func withServer(_ body: (Int, APIRouter, FakeVolumeUploads) async throws -> Void) async throws {
        let directory = try TemporaryDirectory(prefix: "swiftvirt-upload-proxy")
        defer { withExtendedLifetime(directory) {} }
        let uploads = FakeVolumeUploads()
        let router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: nil, streams: uploads)
        try await Bootstrap.ensureNamespaces(router.handler)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = APIServer(configuration: .init(host: "127.0.0.1", port: 0, credentials: nil), router: router,
                               logger: logger) { port in listening.yield(port) }
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(port, router, uploads)
    }

    func seedClaim(_ router: APIRouter, ready: Bool) async throws {
        var annotations: JSONValue = [CDINames.Upload.targetAnnotation: ""]
        if ready {
            annotations[CDINames.Upload.readyAnnotation] = "true"
            annotations["swiftvirt.io/import-node"] = "node-a"
        }
        let claim: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "disk", "annotations": annotations],
                                "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]
        let response = await router.respond(APIRequest(method: "POST", path: "/api/v1/namespaces/default/persistentvolumeclaims",
                                                       body: claim.serializedBytes()), authorization: nil)
        #expect(response.status == 201)
    }

    func token(_ router: APIRouter) -> String {
        router.uploadTokens.sign(UploadToken(namespace: "default", claim: "disk", expires: Date().addingTimeInterval(60)))
    }

    @Test func aHeldUploadStopsTheClientAndALargeBodyArrivesWhole() async throws {
        try await withServer { port, router, uploads in
            try await seedClaim(router, ready: true)
            let head = "POST /v1beta1/upload HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token(router))\r\n"
                + "Content-Length: \(Self.size)\r\n\r\n"
            let release = uploads.release.continuation
            let (sentWhenBlocked, answer) = try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread {
                    continuation.resume(with: Result { try Self.sendUntilBlocked(port: port, head: Array(head.utf8)) { release.yield() } })
                }
            }
            // The upload was held: the client could not write more than socket buffers and a few parts.
            #expect(sentWhenBlocked < 32 << 20, "the client wrote \(sentWhenBlocked) bytes into a held upload")
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
            let received = uploads.received.withLock { $0 }
            #expect(received.bytes == Self.size)
            #expect(received.wrong == 0)
            #expect(received.claim == "default/disk on node-a")
        }
    }

    @Test func refusalsAreStatusAnswers() async throws {
        try await withServer { port, router, uploads in
            let connection = APIConnectionTests()
            func post(_ path: String, token: String?) async throws -> String {
                let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
                return try await connection.exchange(port: port, Array("POST \(path) HTTP/1.1\r\nHost: localhost\r\n\(auth)Content-Length: 3\r\n\r\nabc".utf8))
            }
            #expect(try await post("/v1beta1/upload", token: nil).hasPrefix("HTTP/1.1 401"))
            #expect(try await post("/v1beta1/upload", token: "forged.token").contains("\"code\":401"))
            #expect(try await post("/v1beta1/upload", token: token(router)).hasPrefix("HTTP/1.1 404"))
            try await seedClaim(router, ready: false)
            let early = try await post("/v1beta1/upload-async", token: token(router))
            #expect(early.hasPrefix("HTTP/1.1 503"))
            #expect(early.contains("UploadReady"))
            // The form path wants multipart/form-data.
            #expect(try await post("/v1beta1/upload-form", token: token(router)).hasPrefix("HTTP/1.1 415"))
            #expect(uploads.received.withLock { $0.bytes } == 0)
        }
    }

    /// Writes the head, then the body's pattern until a write blocks for 2 s (calls `blocked` then and
    /// goes on to the end), then reads the answer. Returns how much was written when it first blocked.
    static func sendUntilBlocked(port: Int, head: [UInt8], blocked: () -> Void) throws -> (Int, String) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw VirtError.internalError("socket: errno \(errno)") }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var readTimeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &readTimeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw VirtError.internalError("connect: errno \(errno)") }
        _ = head.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let chunk = (0..<(251 * 4096)).map { UInt8($0 % 251) }
        var sent = 0
        var sentWhenBlocked: Int?
        while sent < size {
            let offset = sent % chunk.count
            let count = min(chunk.count - offset, size - sent)
            let written = chunk[offset..<(offset + count)].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                sent += written
            } else if errno == EAGAIN || errno == EWOULDBLOCK, sentWhenBlocked == nil {
                sentWhenBlocked = sent
                blocked()
            } else if errno != EINTR, errno != EAGAIN {
                throw VirtError.internalError("send: errno \(errno)")
            }
        }
        if sentWhenBlocked == nil { blocked() }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                answer += buffer[..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        return (sentWhenBlocked ?? sent, String(decoding: answer, as: UTF8.self))
    }
}
