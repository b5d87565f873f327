import Foundation

/// Unbuffered writes to stdout and stderr, so output interleaves in order and watch output appears at once.
public enum Terminal {
    /// Writes text to standard output as is.
    public static func write(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes a line to standard output.
    public static func print(_ line: String) {
        write(line + "\n")
    }

    /// Writes a line to standard error.
    public static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Reads all of standard input.
    public static func readStandardInput() -> [UInt8] {
        Array(FileHandle.standardInput.readDataToEndOfFile())
    }
}
