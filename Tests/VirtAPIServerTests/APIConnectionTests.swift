import Foundation
import Logging
import Testing
import VirtError
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// The HTTP/1.1 connection over a real socket: plain HTTP to an in-process server, the bytes written and read
/// by hand, so that what is on the wire is what the test sees.
@Suite struct APIConnectionTests {
    /// Runs `body` against a server on a free port, then stops the server and removes its store.
    func withServer(_ body: (Int) async throws -> Void) async throws {
        let directory = try TemporaryDirectory(prefix: "swiftvirt-connection")
        defer { withExtendedLifetime(directory) {} }
        let router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: ["secret"])
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
        try await body(port)
    }

    /// Connects, writes `request`, and reads until the server closes the connection (at most 20 s), on a
    /// thread of its own.
    func exchange(port: Int, _ request: [UInt8]) async throws -> String {
        let bytes: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try Self.blockingExchange(port: port, request) })
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func blockingExchange(port: Int, _ request: [UInt8]) throws -> [UInt8] {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw VirtError.internalError("socket: errno \(errno)") }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw VirtError.internalError("connect: errno \(errno)") }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer and close before reading everything (it does for a request it cannot parse).
            if written <= 0 { break }
            sent += written
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                answer += chunk[..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        return answer
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndConnectionCloseIsHonoured() async throws {
        try await withServer { port in
            let answer = try await exchange(port: port, Array("""
                GET /version HTTP/1.1\r
                Host: localhost\r
                \r
                GET /api/v1/namespaces/default HTTP/1.1\r
                Host: localhost\r
                Authorization: Bearer secret\r
                Connection: close\r
                \r

                """.utf8))
            let version = try #require(answer.range(of: "\"gitVersion\""))
            let namespace = try #require(answer.range(of: "\"name\":\"default\""))
            #expect(version.lowerBound < namespace.lowerBound)
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
            #expect(answer.lowercased().contains("connection: close"))
            #expect(answer.contains("Date: \(HTTPDate.format(seconds: Int(Date().timeIntervalSince1970)).prefix(16))"))
        }
    }

    @Test func anAbsoluteFormTargetIsServedByItsPathAndQuery() async throws {
        try await withServer { port in
            let answer = try await exchange(port: port, Array("""
                GET http://127.0.0.1:\(port)/api/v1/namespaces?limit=1#ignored HTTP/1.1\r
                Host: localhost\r
                Authorization: Bearer secret\r
                Connection: close\r
                \r

                """.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
            #expect(answer.contains("\"kind\":\"NamespaceList\""))
            // limit=1 reached the router: one item, and a continue token for the rest.
            #expect(answer.contains("\"continue\""))
        }
    }

    @Test func aBodyOverTheLimitIsRefusedWith413AndAStatus() async throws {
        try await withServer { port in
            let size = APIConnectionHandler.bodyLimit + 1
            var request = Array("""
                POST /api/v1/namespaces/default/configmaps HTTP/1.1\r
                Host: localhost\r
                Authorization: Bearer secret\r
                Content-Type: application/json\r
                Content-Length: \(size)\r
                \r

                """.utf8)
            request += [UInt8](repeating: UInt8(ascii: " "), count: size)
            let answer = try await exchange(port: port, request)
            #expect(answer.hasPrefix("HTTP/1.1 413"))
            #expect(answer.contains("\"reason\":\"RequestEntityTooLarge\""))
            #expect(answer.contains("64 MiB"))
        }
    }

    @Test func aRequestThatIsNotHTTPGetsA400AndTheConnectionCloses() async throws {
        try await withServer { port in
            let answer = try await exchange(port: port, Array("NOT HTTP AT ALL\r\n\r\n".utf8))
            #expect(answer.hasPrefix("HTTP/1.1 400"))
        }
    }

    @Test func aRefusedUpgradeIsAnsweredWithAStatus() async throws {
        try await withServer { port in
            let answer = try await exchange(port: port, Array("""
                GET /apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/none/console HTTP/1.1\r
                Host: localhost\r
                Authorization: Bearer secret\r
                Connection: Upgrade, close\r
                Upgrade: websocket\r
                Sec-WebSocket-Version: 13\r
                Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
                \r

                """.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 404"))
            #expect(answer.contains("\"reason\":\"NotFound\""))
        }
    }

    @Test func targetsSplitIntoPathAndQuery() {
        #expect(APIConnectionHandler.split(target: "/api/v1/pods?watch=1&labelSelector=a%3Db").path == "/api/v1/pods")
        #expect(APIConnectionHandler.split(target: "/api/v1/pods?watch=1&labelSelector=a%3Db").query == "watch=1&labelSelector=a%3Db")
        #expect(APIConnectionHandler.split(target: "/version").query == "")
        #expect(APIConnectionHandler.split(target: "https://host:6443/apis?x=1#frag") == ("/apis", "x=1"))
        #expect(APIConnectionHandler.split(target: "https://host:6443").path == "/")
        #expect(RequestQuery.parse("labelSelector=app%3Dweb&fieldSelector=status.phase%3DRunning+x&plain=a")
            == ["labelSelector": "app=web", "fieldSelector": "status.phase=Running x", "plain": "a"])
    }
}
