import ArgumentParser
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt expose vm|vmi NAME --port P [--target-port T] [--type ClusterIP|NodePort] [--name SVC]`:
/// a Service in front of the VM's launcher pods, selecting them by the labels the VM's template (or the
/// VMI) carries, as virtctl expose does.
public struct VMExpose: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "expose",
        abstract: "Expose a virtual machine as a Service.",
        discussion: """
            The Service selects the VM's pods by the labels of spec.template.metadata.labels (of a VMI: its \
            own labels), so the VM needs at least one. Its name is --name, else the VM's.
            """)
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "vm|vmi NAME.") public var arguments: [String]
    @Option(help: "The Service's name (default: the VM's).") public var name: String?
    @Option(help: "The port the Service serves.") public var port: Int
    @Option(name: .customLong("target-port"), help: "The port in the guest (default: --port).") public var targetPort: Int?
    @Option(help: "ClusterIP, NodePort or LoadBalancer.") public var type: String = "ClusterIP"
    @Option(name: .customLong("protocol"), help: "TCP or UDP.") public var transport: String = "TCP"
    @Option(name: .customLong("port-name"), help: "The port's name.") public var portName: String?
    public init() {}

    public func validate() throws {
        guard arguments.count == 2, ["vm", "vmi", "virtualmachine", "virtualmachineinstance"].contains(arguments[0].lowercased()) else {
            throw ValidationError("give the kind and the name: swiftvirt expose vm NAME --port PORT (or vmi NAME)")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port) is not a port: give 1 to 65535") }
        if let targetPort, !(1...65535).contains(targetPort) { throw ValidationError("--target-port \(targetPort) is not a port: give 1 to 65535") }
        guard ["ClusterIP", "NodePort", "LoadBalancer"].contains(type) else {
            throw ValidationError("--type \(type) is not a Service type this exposes: give ClusterIP, NodePort or LoadBalancer")
        }
        guard ["TCP", "UDP"].contains(transport) else { throw ValidationError("--protocol \(transport): give TCP or UDP") }
    }

    public func run() async throws {
        let isVMI = arguments[0].lowercased().hasPrefix("virtualmachineinstance") || arguments[0].lowercased() == "vmi"
        let target = arguments[1]
        try await CommandContext.with(global) { context in
            let path = ResourcePath(group: "kubevirt.io", version: "v1", resource: isVMI ? "virtualmachineinstances" : "virtualmachines",
                                    namespace: context.namespace, name: target)
            let object = try await context.client.get(path)
            let labels = (isVMI ? object[path: ["metadata", "labels"]] : object[path: ["spec", "template", "metadata", "labels"]])?.objectValue ?? [:]
            guard !labels.isEmpty else {
                let field = isVMI ? "metadata.labels" : "spec.template.metadata.labels"
                throw VirtError(.invalid, "cannot expose \(isVMI ? "VirtualMachineInstance" : "VirtualMachine") \(target) without any label: give it one in \(field) (such as kubevirt.io/domain: \(target))")
            }
            let serviceName = name ?? target
            var servicePort: JSONValue = ["port": .int(Int64(port)), "targetPort": .int(Int64(targetPort ?? port)), "protocol": .string(transport)]
            if let portName { servicePort["name"] = .string(portName) }
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "Service",
                "metadata": ["name": .string(serviceName), "namespace": .string(context.namespace)],
                "spec": ["type": .string(type), "selector": .object(labels), "ports": [servicePort]],
            ]
            _ = try await context.client.create(ResourcePath.core("services", namespace: context.namespace), body: body)
            Terminal.print("Service \(serviceName) successfully exposed for \(isVMI ? "vmi" : "vm") \(target)")
        }
    }
}
