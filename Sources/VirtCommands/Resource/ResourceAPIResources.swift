import ArgumentParser
import VirtAPI
import VirtClient

/// `swiftvirt api-resources`: the resource types the server serves, from discovery.
public struct ResourceAPIResources: AsyncParsableCommand {
    /// The verb's name, help and examples.
    public static let configuration = CommandConfiguration(
        commandName: "api-resources",
        abstract: "List the resource types the server serves."
    )

    @OptionGroup public var global: GlobalOptions

    @Option(name: .customLong("api-group"), help: "Only this API group (\"\" for the core group).")
    public var apiGroup: String?

    @Option(name: .long, help: "Only namespaced (true) or cluster-scoped (false) resources.")
    public var namespaced: Bool?

    @Option(name: [.customShort("o"), .long], help: "name: only names; wide: also verbs.")
    public var output: String?

    @Flag(name: .customLong("no-headers"), help: "Leave out the header line.")
    public var noHeaders = false

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}

    /// Runs the command.
    public func run() async throws {
        try await CommandContext.with(global) { context in
            let discovery = try await context.client.discovery()
            var seen = Set<String>()
            let resources = discovery.resources.filter { resource in
                if let apiGroup, resource.group != apiGroup { return false }
                if let namespaced, resource.namespaced != namespaced { return false }
                return seen.insert("\(resource.group)/\(resource.name)").inserted
            }
            if output == "name" {
                Terminal.write(resources.map { $0.qualifiedName + "\n" }.joined())
                return
            }
            let wide = output == "wide"
            var rows: [[String]] = []
            if !noHeaders {
                rows.append(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"] + (wide ? ["VERBS"] : []))
            }
            for resource in resources {
                var row = [
                    resource.name, resource.shortNames.joined(separator: ","), resource.apiVersion,
                    resource.namespaced ? "true" : "false", resource.kind,
                ]
                if wide { row.append(resource.verbs.joined(separator: ",")) }
                rows.append(row)
            }
            Terminal.write(TablePrinter.align(rows).text)
        }
    }
}
