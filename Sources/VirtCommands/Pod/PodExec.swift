import ArgumentParser
import Foundation
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt exec POD -- COMMAND [ARGS…]`: runs a command in a pod (the launcher's `compute` container has
/// qemu-img and qemu-nbd) over the Kubernetes exec websocket, and exits with the command's exit code.
public struct PodExec: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a command in a pod, e.g. swiftvirt exec virt-launcher-vm-abcde -- qemu-img info /path.")
    @OptionGroup public var global: GlobalOptions
    @Option(name: [.short, .customLong("container")], help: "The container (default: the pod's first).") public var container: String?
    @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Send standard input to the command.") public var stdin = false
    @Argument(help: "The pod's name.") public var pod: String
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") public var command: [String] = []

    public init() {}

    public func validate() throws {
        if command.isEmpty {
            throw ValidationError("give the command after --, e.g. swiftvirt exec \(pod) -- qemu-img --version")
        }
    }

    public func run() async throws {
        let exitCode = try await CommandContext.with(global) { context -> Int32 in
            let path = ResourcePath(group: "", version: "v1", resource: "pods", namespace: context.namespace, name: pod, subresource: "exec").urlPath
            var query = command.map { ("command", $0) }
            query += [("stdout", "true"), ("stderr", "true")]
            if let container { query.append(("container", container)) }
            if stdin { query.append(("stdin", "true")) }
            let input = stdin ? Terminal.readStandardInput() : nil
            let result = ExecResult()
            try await context.client.webSocket(path, query: query, subprotocols: ["v5.channel.k8s.io", "v4.channel.k8s.io"]) { session in
                if let input {
                    if !input.isEmpty { try await session.send([0] + input) }
                    try await session.send([255, 0])
                }
                try await session.receive { message in
                    guard let channel = message.first else { return }
                    let payload = Array(message.dropFirst())
                    switch channel {
                    case 1: InputStream.writeOut(payload)
                    case 2: FileHandle.standardError.write(Data(payload))
                    case 3: await result.set(try Self.exitCode(fromStatus: payload))
                    default: break
                    }
                }
            }
            guard let code = await result.code else {
                throw VirtError(.internal, "the exec session of pod \(pod) ended without the command's result")
            }
            return code
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    /// The exit code a `Status` on the error channel carries: 0 for Success, the `ExitCode` cause for a
    /// non-zero exit; any other failure is an error of its own.
    static func exitCode(fromStatus bytes: [UInt8]) throws -> Int32 {
        let status = try JSONValue.parse(bytes)
        if status["status"]?.stringValue == "Success" { return 0 }
        if status["reason"]?.stringValue == "NonZeroExitCode",
           let cause = status[path: ["details", "causes"]]?.arrayValue?.first(where: { $0["reason"]?.stringValue == "ExitCode" }),
           let code = cause["message"]?.stringValue.flatMap({ Int32($0) }) {
            return code
        }
        throw VirtError(.internal, status["message"]?.stringValue ?? "the command failed")
    }

    actor ExecResult {
        var code: Int32?
        func set(_ code: Int32) { self.code = code }
    }
}
