import Foundation

/// A progress display for long operations (DataVolume imports, uploads): on a terminal one line redrawn in
/// place (`[#########...........]  45.00%  ImportInProgress`), elsewhere (a pipe, a file, CI logs) one
/// plain line per change, so logs stay readable.
///
/// Use ``update(fraction:status:)`` as progress arrives and ``finish(status:)`` once at the end; both only
/// write when what they would show changed.
public struct ProgressBar: Sendable {
    /// Where the output goes and how it is drawn.
    public struct Configuration: Sendable {
        /// Cells of the bar between the brackets.
        public var width: Int
        /// Redraw one line in place (a terminal) instead of printing a line per change.
        public var interactive: Bool

        /// A configuration; `interactive` defaults to whether standard output is a terminal.
        public init(width: Int = 30, interactive: Bool = ProgressBar.standardOutputIsTerminal) {
            self.width = max(1, width)
            self.interactive = interactive
        }
    }

    /// Whether standard output is a terminal.
    public static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    private let configuration: Configuration
    private let write: @Sendable (String) -> Void
    private var lastLine: String?
    private var drawnWidth = 0

    /// A progress bar writing through `write` (standard output by default).
    public init(
        configuration: Configuration = Configuration(),
        write: @escaping @Sendable (String) -> Void = { Terminal.write($0) }
    ) {
        self.configuration = configuration
        self.write = write
    }

    /// The line for a fraction (0…1, `nil` when unknown) and a status word, without line ending.
    public func render(fraction: Double?, status: String) -> String {
        let width = configuration.width
        let clamped = fraction.map { min(1, max(0, $0)) }
        let filled = clamped.map { Int(($0 * Double(width)).rounded(.down)) } ?? 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let percent = clamped.map { String(format: "%6.2f%%", $0 * 100) } ?? "   N/A "
        return status.isEmpty ? "[\(bar)] \(percent)" : "[\(bar)] \(percent)  \(status)"
    }

    /// Shows a new state; writes nothing when the line would not change.
    public mutating func update(fraction: Double?, status: String) {
        let line = render(fraction: fraction, status: status)
        guard line != lastLine else { return }
        lastLine = line
        if configuration.interactive {
            let padding = String(repeating: " ", count: max(0, drawnWidth - line.count))
            write("\r" + line + padding)
            drawnWidth = line.count
        } else {
            write(line + "\n")
        }
    }

    /// Shows the final state and ends the line (on a terminal the cursor moves below the bar).
    public mutating func finish(fraction: Double?, status: String) {
        update(fraction: fraction, status: status)
        if configuration.interactive, drawnWidth > 0 {
            write("\n")
            drawnWidth = 0
        }
    }

    /// Parses CDI's progress form (`"45.25%"`; `"N/A"` or anything else → `nil`) into a fraction.
    public static func fraction(fromPercent text: String?) -> Double? {
        guard let text, text.hasSuffix("%"), let value = Double(text.dropLast()) else { return nil }
        return value / 100
    }
}
