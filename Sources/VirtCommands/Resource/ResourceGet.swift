import ArgumentParser
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt get TYPE [NAME...]`: lists or shows resources as a table, YAML, JSON, names or JSONPath, and
/// optionally keeps watching them.
public struct ResourceGet: AsyncParsableCommand {
    /// The verb's name, help and examples.
    public static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Display one or many resources.",
        discussion: """
            Examples:
              swiftvirt get vms
              swiftvirt get vm testvm -o yaml
              swiftvirt get vmis -A -o wide
              swiftvirt get vms -l app=web -w
              swiftvirt get vm testvm -o jsonpath='{.status.printableStatus}'
            """
    )

    @OptionGroup public var global: GlobalOptions

    /// `TYPE [NAME...]`, `TYPE1,TYPE2` or `TYPE/NAME...`.
    @Argument(help: ArgumentHelp("The resource type and optional names: TYPE [NAME...] or TYPE/NAME...", valueName: "type-and-names"))
    public var arguments: [String] = []

    @Option(name: [.customShort("o"), .long], help: "Output format: wide, yaml, json, name or jsonpath=TEMPLATE.")
    public var output: String?

    @Option(name: [.customShort("l"), .long], help: "Label selector, e.g. app=web,tier!=db.")
    public var selector: String?

    @Option(name: .customLong("field-selector"), help: "Field selector, e.g. metadata.name=x.")
    public var fieldSelector: String?

    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.")
    public var allNamespaces = false

    @Flag(name: [.customShort("w"), .long], help: "After listing, watch for changes.")
    public var watch = false

    @Flag(name: .customLong("watch-only"), help: "Watch for changes without listing first.")
    public var watchOnly = false

    @Flag(name: .customLong("no-headers"), help: "Leave out table headers.")
    public var noHeaders = false

    @Flag(name: .customLong("ignore-not-found"), help: "Treat named objects that do not exist as success.")
    public var ignoreNotFound = false

    @Option(name: .customLong("chunk-size"), help: "List in pages of this many objects (0: one request).")
    public var chunkSize: Int = 500

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}

    /// Runs the command.
    public func run() async throws {
        let format = try OutputFormat(output)
        let selections = try ResourceArguments(arguments, verb: "get").selections
        if (watch || watchOnly) && selections.count != 1 {
            throw VirtError(.badRequest, "you may only specify a single resource type when watching")
        }
        if let template = format.jsonpathTemplate { _ = try JSONPathTemplate(template) }
        try await CommandContext.with(global) { context in
            var resolved: [(resource: APIResource, names: [String])] = []
            for selection in selections {
                resolved.append((try await context.resource(selection.type), selection.names))
            }
            if watch || watchOnly, let only = resolved.first {
                try await runWatch(context, only.resource, names: only.names, format: format)
                return
            }
            var errors: [VirtError] = []
            if format.isTable {
                try await printTables(context, resolved, format: format, errors: &errors)
            } else {
                try await printObjects(context, resolved, format: format, errors: &errors)
            }
            for error in errors { Terminal.printError(ErrorReport.message(for: error)) }
            if !errors.isEmpty { throw AlreadyReported() }
        }
    }

    // MARK: - Tables

    private func printTables(
        _ context: CommandContext,
        _ resolved: [(resource: APIResource, names: [String])],
        format: OutputFormat,
        errors: inout [VirtError]
    ) async throws {
        var printedAny = false
        for (resource, names) in resolved {
            var table: ResourceTable?
            if names.isEmpty {
                table = try await listTable(context, resource)
            } else {
                for name in names {
                    do throws(VirtError) {
                        let response = try await context.client.get(path(context, resource, name: name), accept: KubeClient.tableAccept)
                        let part = ResourceTable(response: response)
                        if table == nil { table = part } else { table?.rows += part.rows }
                    } catch {
                        if error.code == .notFound && ignoreNotFound { continue }
                        errors.append(error)
                    }
                }
            }
            guard let table, !table.rows.isEmpty else { continue }
            let printer = TablePrinter(
                wide: format == .wide,
                withNamespace: allNamespaces && resource.namespaced,
                noHeaders: noHeaders,
                namePrefix: resolved.count > 1 ? resource.kindQualifiedName + "/" : nil
            )
            if printedAny { Terminal.write("\n") }
            Terminal.write(printer.render(table))
            printedAny = true
        }
        if !printedAny && errors.isEmpty && !resolved.contains(where: { !$0.names.isEmpty }) {
            Terminal.printError(noResourcesMessage(context, resolved.map(\.resource)))
        }
    }

    private func listTable(_ context: CommandContext, _ resource: APIResource) async throws(VirtError) -> ResourceTable {
        var table: ResourceTable?
        var token: String?
        repeat {
            let response = try await context.client.list(
                path(context, resource), labelSelector: selector, fieldSelector: fieldSelector,
                limit: chunkSize > 0 ? chunkSize : nil, continue: token, accept: KubeClient.tableAccept
            )
            let page = ResourceTable(response: response)
            if var merged = table {
                merged.rows += page.rows
                merged.resourceVersion = page.resourceVersion ?? merged.resourceVersion
                table = merged
            } else {
                table = page
            }
            token = page.continueToken
        } while token != nil
        return table ?? ResourceTable(columns: [], rows: [])
    }

    // MARK: - Objects

    private func printObjects(
        _ context: CommandContext,
        _ resolved: [(resource: APIResource, names: [String])],
        format: OutputFormat,
        errors: inout [VirtError]
    ) async throws {
        var objects: [(APIResource, JSONValue)] = []
        for (resource, names) in resolved {
            if names.isEmpty {
                let list = try await context.client.listAll(
                    path(context, resource), labelSelector: selector, fieldSelector: fieldSelector, pageSize: chunkSize > 0 ? chunkSize : 500
                )
                objects += (list["items"]?.arrayValue ?? []).map { (resource, resource.completing($0)) }
            } else {
                for name in names {
                    do throws(VirtError) {
                        objects.append((resource, try await context.client.get(path(context, resource, name: name))))
                    } catch {
                        if error.code == .notFound && ignoreNotFound { continue }
                        errors.append(error)
                    }
                }
            }
        }
        let singleObject = resolved.count == 1 && resolved[0].names.count == 1
        let document: JSONValue
        if singleObject, let only = objects.first {
            document = only.1
        } else {
            document = ["apiVersion": "v1", "kind": "List", "items": .array(objects.map(\.1)), "metadata": ["resourceVersion": ""]]
        }
        switch format {
        case .yaml:
            if singleObject && objects.isEmpty { break }
            Terminal.write(KubeYAML.render(document))
        case .json:
            if singleObject && objects.isEmpty { break }
            Terminal.write(JSONPretty.render(document))
        case .name:
            Terminal.write(objects.map { $0.0.displayName($0.1.manifestName ?? "") + "\n" }.joined())
            if objects.isEmpty && errors.isEmpty && !singleObject {
                Terminal.printError(noResourcesMessage(context, resolved.map(\.resource)))
            }
        case .jsonpath(let template):
            if singleObject && objects.isEmpty { break }
            Terminal.write(try JSONPathTemplate(template).render(document))
        case .table, .wide:
            break
        }
    }

    // MARK: - Watch

    private func runWatch(_ context: CommandContext, _ resource: APIResource, names: [String], format: OutputFormat) async throws {
        guard names.count <= 1 else {
            throw VirtError(.badRequest, "watch is only supported on individual resources and resource collections, but \(names.count) resources were found")
        }
        let collection = path(context, resource)
        let printer = TablePrinter(wide: format == .wide, withNamespace: allNamespaces && resource.namespaced, noHeaders: noHeaders)
        var widths: [Int] = []
        var headerDone = noHeaders
        var resourceVersion: String?

        func emitTable(_ table: ResourceTable) {
            guard !table.columns.isEmpty || !table.rows.isEmpty else { return }
            var lines: [[String]] = []
            if !headerDone {
                lines.append(printer.header(for: table))
                headerDone = true
            }
            lines += table.rows.map { printer.cells(for: $0, in: table) }
            let aligned = TablePrinter.align(lines, minimumWidths: widths)
            widths = aligned.widths
            Terminal.write(aligned.text)
        }

        func emitObject(_ object: JSONValue) throws(VirtError) {
            switch format {
            case .yaml: Terminal.write("---\n" + KubeYAML.render(object))
            case .json: Terminal.write(JSONPretty.render(object))
            case .name: Terminal.print(resource.displayName(object.manifestName ?? ""))
            case .jsonpath(let template): Terminal.write(try JSONPathTemplate(template).render(object))
            case .table, .wide: emitTable(ResourceTable(response: object))
            }
        }

        if let name = names.first {
            let object = try await context.client.get(collection.named(name))
            resourceVersion = object.manifestResourceVersion
            if !watchOnly {
                if format.isTable {
                    emitTable(ResourceTable(response: try await context.client.get(collection.named(name), accept: KubeClient.tableAccept)))
                } else {
                    try emitObject(object)
                }
            }
        } else if format.isTable {
            let table = try await listTable(context, resource)
            resourceVersion = table.resourceVersion
            if !watchOnly {
                if table.rows.isEmpty {
                    Terminal.printError(noResourcesMessage(context, [resource]))
                } else {
                    emitTable(table)
                }
            }
        } else {
            let list = try await context.client.listAll(collection, labelSelector: selector, fieldSelector: fieldSelector)
            resourceVersion = list.manifestResourceVersion
            if !watchOnly {
                for item in list["items"]?.arrayValue ?? [] { try emitObject(resource.completing(item)) }
            }
        }

        let events = context.client.watch(
            names.first.map { collection.named($0) } ?? collection,
            resourceVersion: resourceVersion,
            labelSelector: selector,
            fieldSelector: fieldSelector,
            accept: format.isTable ? KubeClient.tableAccept : KubeClient.jsonAccept
        )
        for try await event in events {
            if event.type == .bookmark { continue }
            try emitObject(event.object)
        }
    }

    // MARK: - Helpers

    private func path(_ context: CommandContext, _ resource: APIResource, name: String? = nil) -> ResourcePath {
        resource.path(namespace: allNamespaces ? nil : context.namespace, name: name)
    }

    private func noResourcesMessage(_ context: CommandContext, _ resources: [APIResource]) -> String {
        if allNamespaces || !resources.contains(where: \.namespaced) { return "No resources found" }
        return "No resources found in \(context.namespace) namespace."
    }
}

extension OutputFormat {
    var jsonpathTemplate: String? {
        if case .jsonpath(let template) = self { return template }
        return nil
    }
}
