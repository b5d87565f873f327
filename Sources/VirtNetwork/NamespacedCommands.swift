import Foundation
import VirtError
import VirtOS

/// Configuration tools run inside one network namespace, `nsenter --net=PATH -- TOOL …`: a whole `ip`
/// or `tc` batch, an `nft` ruleset or a set of sysctls is one process. A failure names the batch line
/// the tool stopped at (and the line itself) when the tool says which it was.
public struct NamespacedCommands: Sendable {
    /// The namespace's file (`NetworkNamespaces.create(at:)`).
    public var namespacePath: String
    public var runner: any CommandRunner

    public init(namespacePath: String, runner: any CommandRunner = ProcessRunner()) {
        self.namespacePath = namespacePath
        self.runner = runner
    }

    /// `ip -batch -`: one `ip` command per line, without the leading `ip` (`link set lo up`). Stops at
    /// the first failing line. Nothing runs for no lines.
    public func ip(_ lines: [String]) async throws {
        try await batch("ip", ["-batch", "-"], lines)
    }

    /// `tc -batch -`: one `tc` command per line, without the leading `tc`.
    public func tc(_ lines: [String]) async throws {
        try await batch("tc", ["-batch", "-"], lines)
    }

    /// `nft -f -`: a ruleset, applied as one transaction (all of it or none).
    public func nft(_ ruleset: String) async throws {
        try await batch("nft", ["-f", "-"], ruleset.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    /// `sysctl -w KEY=VALUE …` (keys such as `net.ipv4.ip_forward`; the namespace's own values).
    public func sysctl(_ settings: [(key: String, value: String)]) async throws {
        guard !settings.isEmpty else { return }
        let result = try await run("sysctl", ["-w"] + settings.map { "\($0.key)=\($0.value)" })
        guard result.exitCode == 0 else {
            throw VirtError(.internal, "sysctl -w failed in network namespace \(namespacePath) with exit code \(result.exitCode): \(Self.text(result))")
        }
    }

    /// Runs `program` in the namespace and returns what it did, whatever its exit code (for reads such
    /// as `ip -j -d link show`).
    public func run(_ program: String, _ arguments: [String], input: [UInt8]? = nil) async throws -> CommandResult {
        try await runner.run("nsenter", ["--net=\(namespacePath)", "--", program] + arguments, environment: NetworkNamespaces.environment, input: input)
    }

    private func batch(_ tool: String, _ arguments: [String], _ lines: [String]) async throws {
        let lines = lines.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        guard lines.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return }
        let result = try await run(tool, arguments, input: Array((lines.joined(separator: "\n") + "\n").utf8))
        guard result.exitCode == 0 else {
            let location = Self.failedLine(result.stderrText).map { number in
                lines.indices.contains(number - 1) ? " at line \(number) (\"\(lines[number - 1].trimmingCharacters(in: .whitespaces))\")" : " at line \(number)"
            } ?? ""
            throw VirtError(.internal, "\(tool) \(arguments.joined(separator: " ")) failed in network namespace \(namespacePath)\(location): \(Self.text(result, dropping: "Command failed "))")
        }
    }

    /// The 1-based line a tool reported: `Command failed -:N` (ip, tc) or `/dev/stdin:N:…` (nft).
    public static func failedLine(_ stderr: String) -> Int? {
        for line in stderr.split(separator: "\n") {
            if line.hasPrefix("Command failed -:"), let number = Int(line.dropFirst("Command failed -:".count)) { return number }
            for prefix in ["/dev/stdin:", "-:"] where line.hasPrefix(prefix) {
                if let number = line.dropFirst(prefix.count).split(separator: ":").first.flatMap({ Int($0) }) { return number }
            }
        }
        return nil
    }

    /// The tool's stderr (else stdout), without its `Command failed` lines.
    public static func text(_ result: CommandResult, dropping prefix: String? = nil) -> String {
        var text = result.stderrText
        if let prefix { text = text.split(separator: "\n").filter { !$0.hasPrefix(prefix) }.joined(separator: "\n") }
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { text = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) }
        return text.isEmpty ? "exit status \(result.exitCode) and no output" : text
    }
}
