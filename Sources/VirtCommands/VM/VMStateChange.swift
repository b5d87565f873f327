import ArgumentParser
import VirtClient
import VirtError

/// The virtctl verbs that ask the API for a state change of a VM: `PUT` on
/// `subresources.kubevirt.io/v1/namespaces/NS/virtualmachines/NAME/VERB`.
enum VMStateChange {
    static func send(_ verb: String, name: String, global: GlobalOptions, resource: String = "virtualmachines") async throws {
        try await CommandContext.with(global) { context in
            let path = ResourcePath(group: "subresources.kubevirt.io", version: "v1", resource: resource,
                                    namespace: context.namespace, name: name, subresource: verb)
            _ = try await context.client.request("PUT", path.urlPath, body: Array("{}".utf8), contentType: "application/json")
            Terminal.print(resource == "virtualmachines" ? "VM \(name) was scheduled to \(verb)" : "VMI \(name) was scheduled to \(verb)")
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

/// `swiftvirt pause vmi NAME` (or `pause NAME`): freezes the guest's vCPUs.
public struct VMPause: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause a virtual machine instance.")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "vm|vmi NAME, or NAME.") public var arguments: [String]
    public init() {}
    public func run() async throws { try await VMStateChange.send("pause", name: arguments.last ?? "", global: global, resource: "virtualmachineinstances") }
}

/// `swiftvirt unpause vmi NAME`.
public struct VMUnpause: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Unpause a virtual machine instance.")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "vm|vmi NAME, or NAME.") public var arguments: [String]
    public init() {}
    public func run() async throws { try await VMStateChange.send("unpause", name: arguments.last ?? "", global: global, resource: "virtualmachineinstances") }
}

/// `swiftvirt softreboot NAME`: asks the guest to reboot itself (Ctrl-Alt-Delete).
public struct VMSoftReboot: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "softreboot", abstract: "Soft-reboot a virtual machine instance.")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The VirtualMachineInstance's name.") public var name: String
    public init() {}
    public func run() async throws { try await VMStateChange.send("softreboot", name: name, global: global, resource: "virtualmachineinstances") }
}
