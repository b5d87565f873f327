import ArgumentParser
import Foundation
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt patch TYPE NAME -p PATCH`: applies a JSON merge patch (default) or a JSON patch.
public struct ResourcePatch: AsyncParsableCommand {
    /// The verb's name, help and examples.
    public static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Update fields of a resource with a merge patch or a JSON patch.",
        discussion: """
            Examples:
              swiftvirt patch vm testvm -p '{"spec":{"runStrategy":"Always"}}'
              swiftvirt patch vm testvm --type json -p '[{"op":"replace","path":"/spec/runStrategy","value":"Halted"}]'
              swiftvirt patch vm/testvm -p 'metadata: {labels: {tier: web}}'
            Strategic merge patch (kubectl's default) is not supported; --type merge is the default here.
            """
    )

    @OptionGroup public var global: GlobalOptions

    /// `TYPE NAME` or `TYPE/NAME`.
    @Argument(help: ArgumentHelp("TYPE NAME or TYPE/NAME", valueName: "type-and-name"))
    public var arguments: [String] = []

    @Option(name: [.customShort("p"), .long], help: "The patch, as JSON or YAML.")
    public var patch: String?

    @Option(name: .customLong("patch-file"), help: "Read the patch from this file.")
    public var patchFile: String?

    @Option(name: .long, help: "merge (JSON merge patch, the default) or json (JSON patch).")
    public var type: String = "merge"

    @Option(name: .long, help: "Patch a subresource, e.g. status.")
    public var subresource: String?

    @Option(name: .customLong("dry-run"), help: "none (default), server or client.")
    public var dryRun: String = "none"

    @Option(name: [.customShort("o"), .long], help: "Print the result: name, yaml or json.")
    public var output: String?

    @Option(name: .customLong("field-manager"), help: "The field manager recorded for this change.")
    public var fieldManager: String = "swiftvirt-patch"

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}

    /// Runs the command.
    public func run() async throws {
        let patchType: PatchType
        switch type.lowercased() {
        case "merge": patchType = .merge
        case "json": patchType = .json
        case "strategic":
            throw VirtError(.unsupported, "strategic merge patch is not supported by SwiftVirt: use --type merge (the default) or --type json")
        default:
            throw VirtError(.badRequest, "--type must be one of [json merge], not \"\(type)\"")
        }
        let format = try OutputFormat(output)
        let mode = try DryRunMode(dryRun)
        let body = try patchDocument(type: patchType)
        let selections = try ResourceArguments(arguments, verb: "patch").selections
        guard selections.allSatisfy({ !$0.names.isEmpty }) else {
            throw VirtError(.badRequest, "you must specify the name of the resource to patch, e.g. `swiftvirt patch vm NAME -p PATCH`")
        }

        try await CommandContext.with(global) { context in
            var failed = false
            for selection in selections {
                let resource = try await context.resource(selection.type)
                for name in selection.names {
                    let path = context.path(resource, name: name, subresource: subresource)
                    do {
                        let before = try await context.client.get(context.path(resource, name: name))
                        let result: JSONValue
                        if mode == .client {
                            result = before
                        } else {
                            result = try await context.client.patch(
                                path, body: body, contentType: patchType, dryRun: mode == .server, fieldManager: fieldManager
                            )
                        }
                        switch format {
                        case .yaml: Terminal.write(KubeYAML.render(result))
                        case .json: Terminal.write(JSONPretty.render(result))
                        case .jsonpath(let template): Terminal.write(try JSONPathTemplate(template).render(result))
                        default:
                            let unchanged = before.manifestResourceVersion == result.manifestResourceVersion
                            var line = resource.displayName(name)
                            if format != .name { line += unchanged && mode == .none ? " patched (no change)" : " patched" }
                            if mode == .server { line += " (server dry run)" } else if mode == .client { line += " (dry run)" }
                            Terminal.print(line)
                        }
                    } catch {
                        Terminal.printError(ErrorReport.message(for: error))
                        failed = true
                    }
                }
            }
            if failed { throw AlreadyReported() }
        }
    }

    /// The patch as JSON: `-p` or `--patch-file`, written as JSON or YAML, checked against the patch type.
    private func patchDocument(type: PatchType) throws(VirtError) -> JSONValue {
        let text: String
        if let patch, patchFile == nil {
            text = patch
        } else if let patchFile, patch == nil {
            guard let data = FileManager.default.contents(atPath: patchFile) else {
                throw VirtError(.notFound, "cannot read the patch file \(patchFile)")
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            throw VirtError(.badRequest, "give the patch with exactly one of -p PATCH or --patch-file FILE")
        }
        let document: JSONValue
        do throws(VirtError) {
            document = try KubeYAML.document(text)
        } catch {
            throw VirtError(.badRequest, "unable to parse \"\(text)\": \(error.message)")
        }
        switch type {
        case .json:
            guard case .array = document else {
                throw VirtError(.badRequest, "a JSON patch (--type json) must be a list of operations, e.g. [{\"op\":\"replace\",\"path\":\"/spec/runStrategy\",\"value\":\"Halted\"}]")
            }
        default:
            guard case .object = document else {
                throw VirtError(.badRequest, "a merge patch must be an object, e.g. {\"spec\":{\"runStrategy\":\"Always\"}}")
            }
        }
        return document
    }
}
