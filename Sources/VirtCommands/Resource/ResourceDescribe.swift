import ArgumentParser
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt describe TYPE [NAME...]`: an object's fields as indented text, followed by its events.
public struct ResourceDescribe: AsyncParsableCommand {
    /// The verb's name, help and examples.
    public static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show details of a resource and its events.",
        discussion: """
            Examples:
              swiftvirt describe vm testvm
              swiftvirt describe vmi -l app=web
            """
    )

    @OptionGroup public var global: GlobalOptions

    /// `TYPE [NAME...]` or `TYPE/NAME...`; no names: every object of the type (filtered by `-l`).
    @Argument(help: ArgumentHelp("The resource type and optional names: TYPE [NAME...] or TYPE/NAME...", valueName: "type-and-names"))
    public var arguments: [String] = []

    @Option(name: [.customShort("l"), .long], help: "Label selector, e.g. app=web.")
    public var selector: String?

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}

    /// Runs the command.
    public func run() async throws {
        let selections = try ResourceArguments(arguments, verb: "describe").selections
        try await CommandContext.with(global) { context in
            var errors: [VirtError] = []
            var printed = 0
            for selection in selections {
                let resource = try await context.resource(selection.type)
                var objects: [JSONValue] = []
                if selection.names.isEmpty {
                    let list = try await context.client.listAll(context.path(resource), labelSelector: selector)
                    objects = (list["items"]?.arrayValue ?? []).map { resource.completing($0) }
                } else {
                    for name in selection.names {
                        do throws(VirtError) {
                            objects.append(try await context.client.get(context.path(resource, name: name)))
                        } catch {
                            errors.append(error)
                        }
                    }
                }
                for object in objects {
                    let events = await events(for: object, context: context)
                    if printed > 0 { Terminal.write("\n\n") }
                    Terminal.write(DescribePrinter().render(object, events: events))
                    printed += 1
                }
            }
            if printed == 0 && errors.isEmpty {
                Terminal.printError("No resources found in \(context.namespace) namespace.")
            }
            for error in errors { Terminal.printError(ErrorReport.message(for: error)) }
            if !errors.isEmpty { throw AlreadyReported() }
        }
    }

    /// The object's events; a server without events (404) or refusing to list them gives none.
    private func events(for object: JSONValue, context: CommandContext) async -> [JSONValue] {
        guard let name = object.manifestName else { return [] }
        let namespace = object.manifestNamespace
        var selector = "involvedObject.name=\(name)"
        if let namespace { selector += ",involvedObject.namespace=\(namespace)" }
        if let uid = object[path: ["metadata", "uid"]]?.stringValue, !uid.isEmpty { selector += ",involvedObject.uid=\(uid)" }
        do throws(VirtError) {
            let list = try await context.client.list(.core("events", namespace: namespace), fieldSelector: selector, limit: 500)
            return list["items"]?.arrayValue ?? []
        } catch {
            if error.code != .notFound {
                Terminal.printError("warning: cannot list events for \(name): \(error.message)")
            }
            return []
        }
    }
}
