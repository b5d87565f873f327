/// A program that decompresses its standard input to its standard output (`gzip -dc`, `xz -dc`).
///
/// A value type naming the command; `FilterProcess` runs it with pipes, so decompression runs on its
/// own core beside the download and the writes.
public struct Decompressor: Sendable, Equatable {
    /// The program: a name looked up on PATH, or an absolute path.
    public var executable: String
    public var arguments: [String]
    /// How the format is called in messages.
    public var name: String

    public init(executable: String, arguments: [String], name: String) {
        self.executable = executable
        self.arguments = arguments
        self.name = name
    }

    public static let gzip = Decompressor(executable: "gzip", arguments: ["-dc"], name: "gzip")
    public static let xz = Decompressor(executable: "xz", arguments: ["-dc"], name: "xz")

    /// The command line, for logs and tests.
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }
}
