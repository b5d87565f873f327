import ArgumentParser
import VirtClient
import VirtError

/// The `swiftvirt` command line: kubectl-like resource verbs, with room for KubeVirt's virtctl verbs.
///
/// Each verb is its own `AsyncParsableCommand` in a folder per noun (`Resource/ResourceGet.swift`, …) and
/// takes ``GlobalOptions`` (`--kubeconfig`, `--context`, `-n`). Add a verb by listing its type in one of the
/// groups of ``configuration``.
public struct SwiftVirtCommand: AsyncParsableCommand {
    /// The command tree: verbs grouped for `--help`.
    public static let configuration = CommandConfiguration(
        commandName: "swiftvirt",
        abstract: "Manage SwiftVirt (KubeVirt-compatible) virtual machines and resources.",
        discussion: """
            swiftvirt talks to the API server named in a kubeconfig: --kubeconfig, else the first file in \
            $KUBECONFIG, else ~/.kube/config. swiftvirtd writes DATA_DIR/kubeconfig on first start.
            """,
        version: "0.1.0",
        groupedSubcommands: [
            CommandGroup(name: "Resource", subcommands: [
                ResourceApply.self,
                ResourceGet.self,
                ResourceDescribe.self,
                ResourceDelete.self,
                ResourcePatch.self,
                ResourceAPIResources.self,
            ]),
            CommandGroup(name: "Virtual Machine", subcommands: [
                VMStart.self,
                VMStop.self,
                VMRestart.self,
                VMPause.self,
                VMUnpause.self,
                VMSoftReboot.self,
                VMConsole.self,
                VMVNC.self,
                VMExpose.self,
            ]),
            CommandGroup(name: "Pod", subcommands: [
                PodExec.self,
            ]),
            CommandGroup(name: "Image", subcommands: [
                ImageUpload.self,
            ]),
            CommandGroup(name: "Storage", subcommands: [
                DataVolumeCommand.self,
            ]),
        ]
    )

    /// Creates the root command (ArgumentParser uses it for `--help`).
    public init() {}

    /// Parses `arguments` (without the program name), runs the chosen command and returns the exit code.
    /// Errors are printed like kubectl's; global options may come before the verb (`swiftvirt -n ns get vms`).
    public static func run(arguments: [String]) async -> Int32 {
        do {
            var command = try await asyncParseAsRoot(normalize(arguments))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let reported as AlreadyReported {
            return reported.exitCode
        } catch let error as VirtError {
            Terminal.printError(ErrorReport.message(for: error))
            return 1
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { Terminal.print(message) }
            } else if !message.isEmpty {
                Terminal.printError(message)
            }
            return code.rawValue
        }
    }

    /// Moves global options written before the verb to after it, since ArgumentParser reads a command's
    /// options only after its name: `-n ns get vms` becomes `get vms -n ns`.
    public static func normalize(_ arguments: [String]) -> [String] {
        let withValue: Set<String> = ["-n", "--namespace", "--kubeconfig", "--context"]
        var moved: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if withValue.contains(argument), index + 1 < arguments.count {
                moved += [argument, arguments[index + 1]]
                index += 2
            } else if withValue.contains(where: { $0.hasPrefix("--") && argument.hasPrefix($0 + "=") }) {
                moved.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !moved.isEmpty, index < arguments.count else { return arguments }
        var rest = Array(arguments[index...])
        if let terminator = rest.firstIndex(of: "--") {
            rest.insert(contentsOf: moved, at: terminator)
        } else {
            rest += moved
        }
        return rest
    }
}
