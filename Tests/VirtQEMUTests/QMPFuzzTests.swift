import Foundation
import Testing
import VirtTestSupport
import VirtAPI

@testable import VirtQEMU

/// QMP messages as the client reads them: a `QMPConnection` on a real unix socket whose other end, played
/// by the test, sends random and mutated transcripts and hangs up. The reading thread splits and parses
/// every input; the greeting, a command's answer and the events each arrive or fail; nothing traps or hangs.
@Suite struct QMPFuzzTests {
    static let seeds: [String] = [
        #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7"}, "capabilities": ["oob"]}}"# + "\r\n"
            + #"{"timestamp": {"seconds": 1700000000, "microseconds": 125000}, "event": "RESUME"}"# + "\r\n"
            + #"{"return": {"running": true, "singlestep": false, "status": "running"}, "id": "swiftvirt-1"}"# + "\r\n",
        #"{"QMP": {"version": {"qemu": {"micro": 1, "minor": 0, "major": 9}, "package": ""}, "capabilities": []}}"# + "\n"
            + #"{"timestamp": {"seconds": 1700000001, "microseconds": 0}, "event": "BLOCK_IO_ERROR", "data": {"device": "d", "nospace": false, "action": "report"}}"#
            + "\n \n" + #"{"id": "other", "return": {}}"# + "\n"
            + #"{"id": "swiftvirt-1", "error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}"# + "\n",
    ]

    /// QMP syntax to splice in: line breaks, the members the client looks for with values of other types
    /// or at their limits, brackets, bytes that are not UTF-8.
    static let tokens: [[UInt8]] = [
        "\n", "\r\n", "\r", " ", "{", "}", "[", "]", "\"", ":", ",", #"{"QMP": "#, #""id": "swiftvirt-1""#, #""id": 1"#,
        #""return": "#, #""error": "#, #""error": 7"#, #""event": "#, #""event": null"#, #""data": [1]"#,
        #""timestamp": {"seconds": 1e308, "microseconds": -1e308}"#, #""timestamp": "now""#, #""seconds": 1e999"#,
        #""major": 1e300"#, #""major": -9223372036854775808"#, #""minor": 9.3e18"#, #""micro": "0""#, #""capabilities": 1"#,
        String(repeating: "[", count: 600), #"\ud800"#, "\u{2028}",
    ].map { Array($0.utf8) } + [[0xFF], [0x00], [0xC0, 0x80]]

    /// What the client made of one transcript.
    struct Outcome {
        var greeting: Result<QMPGreeting, any Error>
        var answer: Result<JSONValue, any Error>
        var events: [QMPEvent]
    }

    /// A listening unix socket in a directory of its own.
    final class Listener {
        let directory: String
        let path: String
        let fd: Int32

        init() throws {
            var template = Array("/tmp/qmpfuzz-XXXXXX".utf8CString)
            let made: String? = template.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
            }
            directory = try #require(made)
            path = directory + "/qmp.sock"
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8) + [0])
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(fd >= 0 && bound == 0 && listen(fd, 16) == 0, "listen on \(path): errno \(errno)")
        }

        deinit {
            close(fd)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    let listener: Listener

    init() throws { listener = try Listener() }

    /// Connects a client, has it send `query-status`, answers with `transcript` in up to three pieces and
    /// hangs up; returns what the client got.
    func exchange(_ transcript: [UInt8], pieces: Int = 1) async throws -> Outcome {
        let client = try UnixSocket.connect(path: listener.path)
        let peer = accept(listener.fd, nil, nil)
        try #require(peer >= 0)
        defer { close(peer) }
        let (events, continuation) = AsyncStream.makeStream(of: QMPEvent.self)
        let connection = QMPConnection(socket: client, events: continuation)
        connection.start()
        let answer = Task { () -> Result<JSONValue, any Error> in
            do { return .success(try await connection.execute("query-status", arguments: nil)) } catch { return .failure(error) }
        }
        // The command is on the wire once its waiter is filed: only then can an answer find it.
        var command: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        // Only tells a command that never comes from one that is late: the suites that boot guests under
        // TCG can keep both cores busy for many seconds.
        let deadline = ContinuousClock.now + .seconds(120)
        while command.last != UInt8(ascii: "\n"), ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(peer, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { command += buffer[..<count] } else { try await Task.sleep(for: .microseconds(200)) }
        }
        #expect(String(decoding: command, as: UTF8.self) == #"{"execute":"query-status","id":"swiftvirt-1"}"# + "\n")
        var start = 0
        for piece in 0..<pieces {
            let end = piece == pieces - 1 ? transcript.count : start + (transcript.count - start) / 2
            let sent = transcript[start..<end].withUnsafeBytes { send(peer, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            #expect(sent == end - start)
            start = end
        }
        shutdown(peer, Int32(SHUT_RDWR))
        let greeting: Result<QMPGreeting, any Error>
        do {
            greeting = .success(try QMPClient.parseGreeting(try await connection.greeting(), path: listener.path))
        } catch {
            greeting = .failure(error)
        }
        var received: [QMPEvent] = []
        for await event in events { received.append(event) }
        return Outcome(greeting: greeting, answer: await answer.value, events: received)
    }

    @Test func validTranscriptsAreRead() async throws {
        let first = try await exchange(Array(Self.seeds[0].utf8))
        #expect(try first.greeting.get() == QMPGreeting(major: 7, minor: 2, micro: 0, package: "Debian 1:7.2+dfsg-7", capabilities: ["oob"]))
        #expect(try first.answer.get() == ["running": true, "singlestep": false, "status": "running"])
        #expect(first.events == [QMPEvent(name: "RESUME", timestamp: 1_700_000_000.125)])

        let second = try await exchange(Array(Self.seeds[1].utf8), pieces: 3)
        #expect(try second.greeting.get().version == "9.0.1")
        #expect(throws: QMPError.self) { try second.answer.get() }
        if case .failure(QMPError.commandFailed(_, let errorClass, _)) = second.answer {
            #expect(errorClass == "CommandNotFound")
        } else {
            Issue.record("answer: \(second.answer)")
        }
        #expect(second.events.map(\.name) == ["BLOCK_IO_ERROR"])
        #expect(second.events.first?.data["device"] == "d")
    }

    @Test func aPeerThatIsNotQMPIsRefused() async throws {
        let outcome = try await exchange(Array("login: \r\n".utf8))
        #expect(throws: QMPError.self) { try outcome.greeting.get() }
        #expect(outcome.events.isEmpty)
    }

    @Test func randomBytesAreReadOrRefused() async throws {
        var fuzzer = Fuzzer(seed: 0x5EED_0401)
        let alphabet = Array(#"{}[]":, \ntrue0123456789"#.utf8) + Array(Self.tokens.joined())
        for _ in 0..<2_000 {
            _ = try await exchange(fuzzer.bytes(maxCount: 96, alphabet: alphabet), pieces: 1 + fuzzer.below(3))
        }
    }

    @Test func mutatedTranscriptsAreReadOrRefused() async throws {
        var fuzzer = Fuzzer(seed: 0x5EED_0402)
        let seeds = Self.seeds.map { Array($0.utf8) }
        var answered = 0, greeted = 0
        for round in 0..<3_000 {
            let outcome = try await exchange(fuzzer.mutate(seeds[round % seeds.count], tokens: Self.tokens), pieces: 1 + fuzzer.below(3))
            if case .success = outcome.greeting { greeted += 1 }
            if case .success = outcome.answer { answered += 1 }
        }
        // Many mutations leave the greeting or the answer intact: the success paths run too.
        #expect(greeted > 100 && answered > 50, "greeted \(greeted), answered \(answered) of 3000")
    }
}
