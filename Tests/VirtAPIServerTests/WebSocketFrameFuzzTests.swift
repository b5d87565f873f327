import Logging
import NIOCore
import NIOEmbedded
import Testing
import VirtAPI
@testable import VirtAPIServer
import VirtError
import VirtStore
import VirtTestSupport

/// Websocket frames as the server reads them: the real connection pipeline (`StreamingHTTP1Channel`) on
/// an in-memory channel, upgraded by a valid request, then fed random and mutated frame bytes, with an
/// exec session reading its stdin from them. Every input ends the session, cleanly or with an error;
/// none traps or hangs.
@Suite struct WebSocketFrameFuzzTests {
    /// A pod whose commands print their stdin.
    struct EchoStreams: NodeStreams {
        func openStream(_ stream: GuestStream, node: String, namespace: String, pod: String) async throws -> GuestConnection {
            throw VirtError(.notFound, "no guest streams here")
        }
        func exec(node: String, namespace: String, pod: String, command: [String], stdin: [UInt8]?) async throws -> ExecOutcome {
            ExecOutcome(stdout: stdin ?? [], stderr: [], exitCode: 0)
        }
        func carryOut(_ verb: String, node: String, namespace: String, name: String) async throws {}
    }

    static let upgrade = Array("""
        GET /api/v1/namespaces/default/pods/p/exec?command=cat&stdin=true&stdout=true HTTP/1.1\r
        Host: localhost\r
        Connection: Upgrade\r
        Upgrade: websocket\r
        Sec-WebSocket-Version: 13\r
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
        Sec-WebSocket-Protocol: v5.channel.k8s.io\r
        \r

        """.utf8)

    /// A client frame: FIN, opcode, the mask bit and the payload length in the sizes RFC 6455 has, masked.
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        switch payload.count {
        case ..<126: bytes.append(0x80 | UInt8(payload.count))
        case ..<65_536: bytes += [0xFE, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: bytes += [0xFF] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: payload.count >> ($0 * 8)) }
        }
        return bytes + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    static let closeStdin = frame(0x2, [0xFF, 0x00])

    /// Exec's stdin in the shapes a client sends it: one frame, fragments with control frames between
    /// them, text frames, a large frame, a resize message.
    static let seeds: [[UInt8]] = [
        frame(0x2, [0x00] + Array("hello".utf8)) + closeStdin,
        frame(0x2, [0x00, 0x61, 0x62], fin: false) + frame(0x9, Array("ping".utf8)) + frame(0x0, [0x63], fin: false)
            + frame(0xA, []) + frame(0x0, [0x64]) + frame(0x1, [0x00] + Array("text".utf8)) + closeStdin,
        frame(0x2, [0x00] + [UInt8](repeating: 0x78, count: 300)) + frame(0x2, [0x04] + Array(#"{"Width":80,"Height":24}"#.utf8))
            + frame(0x2, [0x00]) + frame(0x2, []) + closeStdin,
    ]

    /// Frame syntax to splice in: every opcode with and without FIN and reserved bits, 16- and 64-bit
    /// lengths up to and past `Int.max`, control frames too long or fragmented, close codes.
    static let tokens: [[UInt8]] = [
        [0x82], [0x02], [0x80], [0x00], [0x81], [0x88], [0x89], [0x8A], [0x83], [0x8B], [0xC2], [0xF2], [0x09],
        [0x7E, 0xFF, 0xFF], [0xFE, 0x00, 0x7E], [0xFE, 0x10, 0x00], [0x7F] + [UInt8](repeating: 0xFF, count: 8),
        [0xFF, 0x7F] + [UInt8](repeating: 0xFF, count: 7), [0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
        [0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0], [0x89, 0xFE, 0x00, 0x80], [0x09, 0x80], [0xFF, 0x00], [0x03], [0x04], [0xFF],
        frame(0x8, [0x03, 0xE8]), frame(0x8, [0x00, 0x00]), frame(0x8, [0x0F, 0xA0, 0xFF, 0xFE]), frame(0x8, [0x03]),
        frame(0x9, [UInt8](repeating: 1, count: 126)), frame(0x2, [0x00], fin: false), frame(0x0, [0x00]), [0x37, 0xFA, 0x21, 0x3D],
    ]

    let router: APIRouter
    let directory: TemporaryDirectory
    let server: StreamingHTTP1Channel
    let logger: Logger

    init() throws {
        directory = try TemporaryDirectory(prefix: "swiftvirt-websocket-fuzz")
        router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: nil)
        let request = StreamEndpoint.ExecRequest(node: "fuzz", namespace: "default", pod: "p", command: ["cat"], stdin: true, stdout: true, stderr: false)
        server = StreamingHTTP1Channel(router: router, decide: { _ in
            (.init(), { inbound, outbound in
                try await WebSocketEdge.exec(request, v5: true, streams: EchoStreams(), inbound: inbound, outbound: outbound)
            })
        }, maxFrameSize: 1 << 20)
        var logger = Logger(label: "websocket-fuzz")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// Upgrades a fresh connection, writes `input` in up to three pieces and closes the connection once
    /// `until` holds for what the server sent (at once without it). Returns the bytes the server sent
    /// after its 101, or nil when the session did not end within 10 s.
    func session(_ input: [UInt8], pieces: Int = 1, until: (([UInt8]) -> Bool)? = nil) async throws -> [UInt8]? {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        let server = self.server, logger = self.logger
        let value = try await channel.eventLoop.flatSubmit { server.setup(channel: channel, logger: logger) }.get()
        let handling = Task { await server.handle(value: value, logger: logger) }
        try await channel.writeInbound(ByteBuffer(bytes: Self.upgrade))
        var response = try await Self.bytes(channel.waitForOutboundWrite(as: IOData.self))
        #expect(response.starts(with: Array("HTTP/1.1 101".utf8)), "\(String(decoding: response, as: UTF8.self))")
        var start = 0
        for piece in 0..<pieces {
            let end = piece == pieces - 1 ? input.count : start + (input.count - start) / 2
            do {
                try await channel.writeInbound(ByteBuffer(bytes: input[start..<end]))
            } catch {
                // A frame the decoder refuses reaches the end of the pipeline as an error (the protocol
                // error handler has answered it with a close frame): the outcome of bad bytes, not a failure.
            }
            start = end
        }
        response = []
        if let until {
            let deadline = ContinuousClock.now + .seconds(10)
            while !until(response), ContinuousClock.now < deadline {
                if let write = try await channel.readOutbound(as: IOData.self) {
                    response += Self.bytes(write)
                } else {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }
        try? await channel.close()
        let ended = await Self.within(.seconds(10)) { await handling.value }
        while let write = try await channel.readOutbound(as: IOData.self) { response += Self.bytes(write) }
        return ended ? response : nil
    }

    static func bytes(_ data: IOData) -> [UInt8] {
        guard case .byteBuffer(let buffer) = data else { return [] }
        return Array(buffer.readableBytesView)
    }

    /// Whether `body` finished within `limit`.
    static func within(_ limit: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await body(); return true }
            group.addTask { try? await Task.sleep(for: limit); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// The payloads of the server's (unmasked) frames.
    static func payloads(_ bytes: [UInt8]) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        var at = 0
        while at + 2 <= bytes.count {
            let marker = Int(bytes[at + 1] & 0x7F)
            at += 2
            var length = marker
            if marker == 126 {
                guard at + 2 <= bytes.count else { break }
                length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
                at += 2
            }
            // The server's frames here are under 64 KiB: no 64-bit lengths.
            guard marker != 127, at + length <= bytes.count else { break }
            payloads.append(Array(bytes[at..<(at + length)]))
            at += length
        }
        return payloads
    }

    static func finished(_ bytes: [UInt8]) -> Bool { payloads(bytes).contains { $0.first == 3 } }

    @Test func validFramesReachTheSession() async throws {
        let output = try #require(try await session(Self.seeds[0], until: Self.finished))
        let payloads = Self.payloads(output)
        #expect(payloads.contains([0x01] + Array("hello".utf8)), "\(payloads)")
        #expect(payloads.contains { $0.first == 3 && String(decoding: $0.dropFirst(), as: UTF8.self).contains(#""status":"Success""#) })
        for seed in Self.seeds.dropFirst() {
            let output = try #require(try await session(seed, pieces: 3, until: Self.finished))
            #expect(Self.finished(output))
        }
    }

    @Test func randomBytesEndTheSession() async throws {
        var fuzzer = Fuzzer(seed: 0x5EED_0301)
        let alphabet = Array(Self.tokens.joined())
        for round in 0..<1_000 {
            let input = fuzzer.bytes(maxCount: 64, alphabet: alphabet)
            let ended = try await session(input, pieces: 1 + fuzzer.below(3)) != nil
            #expect(ended, "round \(round): the session did not end for \(input)")
        }
    }

    @Test func mutatedFramesEndTheSession() async throws {
        var fuzzer = Fuzzer(seed: 0x5EED_0302)
        for round in 0..<2_000 {
            let input = fuzzer.mutate(Self.seeds[round % Self.seeds.count], tokens: Self.tokens)
            let ended = try await session(input, pieces: 1 + fuzzer.below(3)) != nil
            #expect(ended, "round \(round): the session did not end for \(input)")
        }
    }
}
