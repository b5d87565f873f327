/// A `CommandRunner` that can also start a program with its standard streams on files.
///
/// Used for programs whose children outlive them and inherit their stdio, such as
/// `runc run --detach`. Test fakes implement both methods to record the exact command lines.
public protocol RedirectingCommandRunner: CommandRunner {
    /// Runs a program with stdin/stdout/stderr on the files in `streams` and waits for it to exit.
    /// Returns its exit code (a signal `n` that killed it is reported as `128 + n`). Nothing is captured:
    /// what the program printed is in the files.
    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, streams: StandardStreams) async throws -> Int32
}
