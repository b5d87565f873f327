import ArgumentParser
import Foundation
import VirtClient
import VirtError

/// `swiftvirt console NAME`: the VMI's serial console over the `console` websocket.
///
/// On a terminal it is interactive: keys go to the guest as typed and Ctrl-] ends the session. With stdin
/// piped it sends the input, then prints what the guest says for `--linger` more seconds and leaves.
public struct VMConsole: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Connect to the serial console of a virtual machine instance (escape with Ctrl-]).")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The VirtualMachineInstance's name.") public var name: String
    @Option(help: "Piped input: after it ends, keep printing the guest's output this many seconds before leaving.") public var linger: Double = 3
    @Option(help: "Give up after this many minutes waiting for the VMI to run (virtctl's --timeout).") public var timeout: Int = 5

    public init() {}

    /// Ctrl-], the escape key of virtctl and telnet.
    static let escape: UInt8 = 0x1d

    public func run() async throws {
        try await CommandContext.with(global) { context in
            let path = ResourcePath(group: "subresources.kubevirt.io", version: "v1", resource: "virtualmachineinstances",
                                    namespace: context.namespace, name: name, subresource: "console").urlPath
            let interactive = isatty(0) == 1
            let linger = self.linger
            let name = self.name
            let vmiPath = ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachineinstances",
                                       namespace: context.namespace, name: name)
            try await Self.retryingWhilePending(minutes: timeout, phase: { try? await context.client.get(vmiPath)[path: ["status", "phase"]]?.stringValue }) {
                try await context.client.webSocket(path, subprotocols: ["plain.kubevirt.io"]) { session in
                    let terminal = interactive ? RawTerminal.enter() : nil
                    if interactive {
                        Terminal.printError("Successfully connected to \(name) console. The escape sequence is ^]\r")
                    }
                    defer { terminal?.restore() }
                    try await Self.pump(session, interactive: interactive, linger: linger)
                }
            }
            if interactive { Terminal.printError("") }
        }
    }

    /// Copies stdin to the guest and the guest to stdout until the escape key, the end of the session, or
    /// (piped) `linger` seconds after the input ends.
    static func pump(_ session: WebSocketSession, interactive: Bool, linger: Double) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await session.receive { bytes in InputStream.writeOut(bytes) }
            }
            group.addTask {
                for await chunk in InputStream.standardInput() {
                    if interactive, let escape = chunk.firstIndex(of: escape) {
                        if escape > 0 { try await session.send(Array(chunk[..<escape])) }
                        return
                    }
                    try await session.send(chunk)
                }
                if interactive { return }
                // Piped input ended: let the guest answer, then leave.
                try await Task.sleep(for: .milliseconds(Int(linger * 1000)))
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Retries while the VMI exists but does not run yet, as virtctl waits for it: a refusal (400) while
    /// the VMI's phase is still before Running. Any other refusal, or one for a running or finished VMI, is
    /// the answer.
    static func retryingWhilePending(minutes: Int, phase: () async -> String?, _ body: () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + .seconds(minutes * 60)
        var told = false
        while true {
            do {
                return try await body()
            } catch {
                guard let failure = error as? VirtError, failure.code == .badRequest, ContinuousClock.now < deadline,
                      let current = await phase(), !["Running", "Succeeded", "Failed"].contains(current)
                else { throw error }
                if !told {
                    Terminal.printError("VMI is \(current.isEmpty ? "Pending" : current), not Running yet; waiting up to \(minutes) min (--timeout)")
                    told = true
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
