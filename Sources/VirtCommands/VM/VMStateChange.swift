import ArgumentParser
import VirtClient
import VirtError

/// The virtctl verbs that ask the API for a state change of a VM: `PUT` on
/// `subresources.kubevirt.io/v1/namespaces/NS/virtualmachines/NAME/VERB`.
enum VMStateChange {
    static func send(_ verb: String, name: String, global: GlobalOptions) async throws {
        try await CommandContext.with(global) { context in
            let path = ResourcePath(group: "subresources.kubevirt.io", version: "v1", resource: "virtualmachines",
                                    namespace: context.namespace, name: name, subresource: verb)
            _ = try await context.client.request("PUT", path.urlPath, body: Array("{}".utf8), contentType: "application/json")
            Terminal.print("VM \(name) was scheduled to \(verb)")
        }
    }
}

/// `swiftvirt start NAME`.
public struct VMStart: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a virtual machine.")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The VirtualMachine's name.") public var name: String
    public init() {}
    public func run() async throws { try await VMStateChange.send("start", name: name, global: global) }
}

/// `swiftvirt stop NAME`.
public struct VMStop: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a virtual machine.")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The VirtualMachine's name.") public var name: String
    public init() {}
    public func run() async throws { try await VMStateChange.send("stop", name: name, global: global) }
}

/// `swiftvirt restart NAME`.
public struct VMRestart: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart a virtual machine (a new VMI).")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The VirtualMachine's name.") public var name: String
    public init() {}
    public func run() async throws { try await VMStateChange.send("restart", name: name, global: global) }
}
