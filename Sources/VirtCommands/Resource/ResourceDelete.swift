import ArgumentParser
import Foundation
import VirtAPI
import VirtClient
import VirtError

/// `swiftvirt delete`: deletes named objects, objects from manifests (`-f`) or by selector (`-l`, `--all`),
/// then waits until they are gone.
public struct ResourceDelete: AsyncParsableCommand {
    /// The verb's name, help and examples.
    public static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete resources by name, by file, or by label selector.",
        discussion: """
            Examples:
              swiftvirt delete vm testvm
              swiftvirt delete -f vm.yaml
              swiftvirt delete vms -l app=web
              swiftvirt delete vms --all --wait=false
            """
    )

    @OptionGroup public var global: GlobalOptions

    /// `TYPE NAME...`, `TYPE/NAME...`, or `TYPE` with `-l`/`--all`.
    @Argument(help: ArgumentHelp("TYPE NAME..., TYPE/NAME..., or TYPE with -l or --all", valueName: "type-and-names"))
    public var arguments: [String] = []

    @Option(name: [.customShort("f"), .customLong("filename")], help: "Delete the objects in this file, directory or - (stdin).")
    public var filenames: [String] = []

    @Flag(name: [.customShort("R"), .long], help: "Read directories given with -f recursively.")
    public var recursive = false

    @Option(name: [.customShort("l"), .long], help: "Delete the objects matching this label selector.")
    public var selector: String?

    @Option(name: .customLong("field-selector"), help: "Delete the objects matching this field selector.")
    public var fieldSelector: String?

    @Flag(name: .long, help: "Delete every object of the type in the namespace.")
    public var all = false

    @Flag(name: .customLong("ignore-not-found"), help: "Treat objects that do not exist as deleted.")
    public var ignoreNotFound = false

    @Option(name: .long, help: "Wait until the objects are gone (true|false).")
    public var wait: Bool = true

    @Option(name: .long, help: "How long to wait, e.g. 60s or 5m (0: no limit).")
    public var timeout: String = "0s"

    @Option(name: .long, help: "How dependents go: background (default), foreground or orphan.")
    public var cascade: String = "background"

    @Option(name: .customLong("grace-period"), help: "Seconds the object gets to terminate.")
    public var gracePeriod: Int?

    @Flag(name: .long, help: "Delete immediately (grace period 1 second).")
    public var now = false

    @Option(name: .customLong("dry-run"), help: "server: let the server check the deletion without doing it; none: delete.")
    public var dryRun: String = "none"

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}

    /// Runs the command.
    public func run() async throws {
        let policy = try propagationPolicy()
        let timeoutSeconds = try GoDuration.seconds(timeout)
        let dryRunMode = try DryRunMode(dryRun)
        let serverDryRun = dryRunMode == .server
        if !filenames.isEmpty && !arguments.isEmpty {
            throw VirtError(.badRequest, "cannot use resource arguments together with -f: use either `delete -f FILE` or `delete TYPE NAME`")
        }
        let manifests = filenames.isEmpty ? [] : try ManifestReader.read(filenames, recursive: recursive)
        let selections = filenames.isEmpty ? try ResourceArguments(arguments, verb: "delete").selections : []
        let bySelector = all || selector != nil || fieldSelector != nil
        for selection in selections {
            if selection.names.isEmpty && !bySelector {
                throw VirtError(.badRequest, "resource(s) were provided, but no name was specified: add NAME, -l SELECTOR or --all")
            }
            if !selection.names.isEmpty && bySelector {
                throw VirtError(.badRequest, "name cannot be provided when a selector (-l, --field-selector, --all) is specified")
            }
        }

        try await CommandContext.with(global) { context in
            var targets: [(resource: APIResource, path: ResourcePath)] = []
            for manifest in manifests {
                let object = manifest.object
                guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue, let name = object.manifestName else {
                    throw VirtError(.badRequest, "\(manifest.source): every object needs apiVersion, kind and metadata.name")
                }
                let resource = try await context.client.resource(apiVersion: apiVersion, kind: kind)
                targets.append((resource, context.path(resource, name: name, namespace: object.manifestNamespace)))
            }
            for selection in selections {
                let resource = try await context.resource(selection.type)
                if selection.names.isEmpty {
                    let list = try await context.client.listAll(context.path(resource), labelSelector: selector, fieldSelector: fieldSelector)
                    for item in list["items"]?.arrayValue ?? [] {
                        guard let name = item.manifestName else { continue }
                        targets.append((resource, context.path(resource, name: name, namespace: item.manifestNamespace)))
                    }
                } else {
                    for name in selection.names { targets.append((resource, context.path(resource, name: name))) }
                }
            }
            if targets.isEmpty {
                Terminal.printError("No resources found")
                return
            }

            var failed = false
            var deleted: [(resource: APIResource, path: ResourcePath)] = []
            for target in targets {
                let name = target.path.name ?? ""
                if dryRunMode == .client {
                    Terminal.print("\(target.resource.quotedName(name)) deleted (dry run)")
                    continue
                }
                do throws(VirtError) {
                    try await context.client.delete(
                        target.path, propagationPolicy: policy, dryRun: serverDryRun,
                        gracePeriodSeconds: now ? 1 : gracePeriod
                    )
                    Terminal.print("\(target.resource.quotedName(name)) deleted\(serverDryRun ? " (server dry run)" : "")")
                    deleted.append(target)
                } catch {
                    if error.code == .notFound && ignoreNotFound { continue }
                    Terminal.printError(ErrorReport.message(for: error))
                    failed = true
                }
            }
            if wait && dryRunMode == .none {
                let deadline = timeoutSeconds > 0 ? Date().addingTimeInterval(timeoutSeconds) : nil
                for target in deleted {
                    try await waitUntilGone(context, target.resource, target.path, deadline: deadline)
                }
            }
            if failed { throw AlreadyReported() }
        }
    }

    private func propagationPolicy() throws(VirtError) -> PropagationPolicy {
        switch cascade.lowercased() {
        case "background", "true": return .background
        case "foreground": return .foreground
        case "orphan", "false": return .orphan
        default: throw VirtError(.badRequest, "invalid --cascade \"\(cascade)\": use background, foreground or orphan")
        }
    }

    /// Polls until the object answers 404 (or has a new UID: it was deleted and created again).
    private func waitUntilGone(_ context: CommandContext, _ resource: APIResource, _ path: ResourcePath, deadline: Date?) async throws {
        var interval: UInt64 = 100_000_000
        var originalUID: String?
        while true {
            do throws(VirtError) {
                let object = try await context.client.get(path)
                let uid = object[path: ["metadata", "uid"]]?.stringValue
                if originalUID == nil { originalUID = uid } else if uid != originalUID { return }
            } catch {
                if error.code == .notFound { return }
                throw error
            }
            if let deadline, Date() >= deadline {
                throw VirtError(.timeout, "timed out waiting for the condition on \(resource.name)/\(path.name ?? "")")
            }
            try await Task.sleep(nanoseconds: interval)
            interval = min(interval * 2, 1_000_000_000)
        }
    }
}
