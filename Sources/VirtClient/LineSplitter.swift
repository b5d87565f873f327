/// Splits a byte stream into `\n`-terminated lines, for newline-delimited JSON (watch streams).
///
/// Bytes after the last newline are kept until more arrive or ``finish()`` is called. Empty lines and a
/// trailing `\r` are dropped.
public struct LineSplitter: Sendable {
    private var pending: [UInt8] = []

    /// Creates an empty splitter.
    public init() {}

    /// Adds bytes and returns the complete lines they finish.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                if !pending.isEmpty { lines.append(pending) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    /// Returns what is left after the last newline (nil if nothing or only whitespace).
    public mutating func finish() -> [UInt8]? {
        defer { pending.removeAll() }
        let isBlank = pending.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }
        return isBlank ? nil : pending
    }
}
