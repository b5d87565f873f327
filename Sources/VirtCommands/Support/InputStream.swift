import Foundation

/// Standard input as an async sequence of chunks, read on a thread of its own so a blocking `read` never
/// holds a cooperative thread. The sequence ends at end of file.
enum InputStream {
    static func standardInput() -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                continuation.yield(Array(buffer[0..<count]))
            }
            continuation.finish()
        }
        thread.start()
        return stream
    }

    /// Writes bytes to standard output unbuffered.
    static func writeOut(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// A terminal in raw mode (no echo, no line editing, no signals from keys) until ``restore()``.
struct RawTerminal {
    private var saved = termios()

    /// Switches standard input to raw mode; `nil` when it is not a terminal.
    static func enter() -> RawTerminal? {
        guard isatty(0) == 1 else { return nil }
        var terminal = RawTerminal()
        guard tcgetattr(0, &terminal.saved) == 0 else { return nil }
        var raw = terminal.saved
        cfmakeraw(&raw)
        guard tcsetattr(0, TCSANOW, &raw) == 0 else { return nil }
        return terminal
    }

    func restore() {
        var saved = self.saved
        _ = tcsetattr(0, TCSANOW, &saved)
    }
}
