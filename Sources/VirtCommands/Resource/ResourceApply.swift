import ArgumentParser
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt apply -f FILE|DIR|-`: creates or updates every object of the manifests with server-side apply.
public struct ResourceApply: AsyncParsableCommand {
    /// The verb's name, help and examples.
    public static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create or update resources from YAML or JSON manifests (server-side apply).",
        discussion: """
            Every object is sent as PATCH with Content-Type application/apply-patch+yaml; the server creates \
            objects that do not exist.

            Examples:
              swiftvirt apply -f vm.yaml
              swiftvirt apply -f manifests/ -R
              cat vm.yaml | swiftvirt apply -f -
            """
    )

    @OptionGroup public var global: GlobalOptions

    @Option(name: [.customShort("f"), .customLong("filename")], help: "A manifest file, a directory of them, or - for stdin (repeatable).")
    public var filenames: [String] = []

    @Flag(name: [.customShort("R"), .long], help: "Read directories recursively.")
    public var recursive = false

    @Option(name: .customLong("field-manager"), help: "The field manager that owns the applied fields.")
    public var fieldManager: String = "swiftvirt"

    @Option(name: .customLong("force-conflicts"), help: "Take over fields other managers own (true|false).")
    public var forceConflicts: Bool = true

    @Flag(name: .customLong("server-side"), help: "Accepted for kubectl compatibility; apply is always server-side.")
    public var serverSide = false

    @Option(name: .customLong("dry-run"), help: "none (default), server or client.")
    public var dryRun: String = "none"

    @Option(name: [.customShort("o"), .long], help: "Print the result: name, yaml or json.")
    public var output: String?

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}

    /// Runs the command.
    public func run() async throws {
        let mode = try DryRunMode(dryRun)
        let format = try OutputFormat(output)
        let manifests = try ManifestReader.read(filenames, recursive: recursive)
        if manifests.isEmpty {
            throw VirtError(.badRequest, "no objects passed to apply")
        }
        try await CommandContext.with(global) { context in
            var failed = false
            for manifest in manifests {
                do throws(VirtError) {
                    try await apply(manifest, context: context, mode: mode, format: format)
                } catch {
                    var error = error
                    if error.cause is ServerStatus {
                        error.message = "error when applying \"\(manifest.source)\": \(error.message)"
                    }
                    Terminal.printError(ErrorReport.message(for: error))
                    failed = true
                }
            }
            if failed { throw AlreadyReported() }
        }
    }

    private func apply(_ manifest: ManifestReader.Manifest, context: CommandContext, mode: DryRunMode, format: OutputFormat) async throws(VirtError) {
        var object = manifest.object
        var missing: [String] = []
        if object["apiVersion"]?.stringValue?.isEmpty ?? true { missing.append("apiVersion not set") }
        if object["kind"]?.stringValue?.isEmpty ?? true { missing.append("kind not set") }
        guard missing.isEmpty, let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue else {
            throw VirtError(.invalid, "error validating \"\(manifest.source)\": error validating data: [\(missing.joined(separator: ", "))]")
        }
        guard let name = object.manifestName, !name.isEmpty else {
            throw VirtError(.invalid, "error validating \"\(manifest.source)\": a \(kind) needs metadata.name to be applied (generateName is only for create)")
        }
        let resource = try await context.client.resource(apiVersion: apiVersion, kind: kind)
        var namespace: String?
        if resource.namespaced {
            if let own = object.manifestNamespace, context.namespaceIsExplicit, own != context.namespace {
                throw VirtError(
                    .badRequest,
                    "the namespace from the provided object \"\(own)\" does not match the namespace \"\(context.namespace)\". You must pass '--namespace=\(own)' to perform this operation."
                )
            }
            namespace = object.manifestNamespace ?? context.namespace
            object[path: ["metadata", "namespace"]] = namespace.map(JSONValue.string)
        } else {
            object[path: ["metadata", "namespace"]] = nil
        }
        let path = resource.path(namespace: namespace, name: name)

        var previous: String?
        var exists = true
        do throws(VirtError) {
            previous = try await context.client.get(path).manifestResourceVersion
        } catch {
            guard error.code == .notFound else { throw error }
            exists = false
        }

        let result: JSONValue
        let verb: String
        if mode == .client {
            result = object
            verb = exists ? "configured" : "created"
        } else {
            let applied = try await context.client.apply(path, object: object, fieldManager: fieldManager, force: forceConflicts, dryRun: mode == .server)
            result = applied.object
            if applied.created || !exists {
                verb = "created"
            } else if applied.object.manifestResourceVersion != previous {
                verb = "configured"
            } else {
                verb = "unchanged"
            }
        }
        switch format {
        case .yaml: Terminal.write("---\n" + KubeYAML.render(result))
        case .json: Terminal.write(JSONPretty.render(result))
        case .name: Terminal.print(resource.displayName(name))
        case .jsonpath(let template): Terminal.write(try JSONPathTemplate(template).render(result))
        case .table, .wide:
            let suffix = mode == .server ? " (server dry run)" : mode == .client ? " (dry run)" : ""
            Terminal.print("\(resource.displayName(name)) \(verb)\(suffix)")
        }
    }
}
