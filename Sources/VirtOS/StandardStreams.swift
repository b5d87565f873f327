/// Files a started program's standard streams are connected to, instead of pipes.
///
/// A program that leaves a long-lived child behind (`runc run --detach`, whose container inherits
/// runc's stdio) must not get pipes: the child would hold the write ends open and a reader waiting for
/// end-of-file would wait as long as the child lives. With files, the child keeps writing to them after
/// the program has exited. Output files are opened for appending and created (mode 0644) when missing.
public struct StandardStreams: Sendable, Equatable {
    /// Path read as standard input; `nil` reads `/dev/null`.
    public var input: String?
    /// Path standard output is appended to.
    public var output: String
    /// Path standard error is appended to (may equal `output`).
    public var error: String

    public init(input: String? = nil, output: String = "/dev/null", error: String = "/dev/null") {
        self.input = input
        self.output = output
        self.error = error
    }

    /// All three streams on `/dev/null`.
    public static let null = StandardStreams()
}
