import Foundation
import VirtAPI
import VirtOS

/// A CNI operation's verb, as CNI_COMMAND carries it.
public enum CNICommand: String, Sendable, Equatable {
    case add = "ADD"
    case check = "CHECK"
    case delete = "DEL"
}

extension CNIRuntime {
    /// The configuration one plugin receives on stdin: its own object, with the list's `cniVersion` and
    /// `name`, `runtimeConfig` holding the attachment's capability arguments the plugin declares (none:
    /// no `runtimeConfig`), and `prevResult` when given.
    static func request(for plugin: CNINetworkConfigList.Plugin, in list: CNINetworkConfigList, attachment: CNIAttachment, prevResult: JSONValue?) -> JSONValue {
        var object = plugin.json
        object["cniVersion"] = .string(list.cniVersion)
        object["name"] = .string(list.name)
        let offered = attachment.capabilityArgs.filter { plugin.capabilities.contains($0.key) }
        if offered.isEmpty {
            object["runtimeConfig"] = nil
        } else {
            object["runtimeConfig"] = .object(offered)
        }
        object["prevResult"] = prevResult
        return .object(object)
    }

    /// The plugin's environment: the CNI_* variables, and PATH (plugins run `iptables`, `ip6tables`…).
    func environment(_ command: CNICommand, _ attachment: CNIAttachment) -> [String: String] {
        [
            "CNI_COMMAND": command.rawValue,
            "CNI_CONTAINERID": attachment.containerID,
            "CNI_NETNS": attachment.netnsPath,
            "CNI_IFNAME": attachment.ifName,
            "CNI_ARGS": attachment.argsString,
            "CNI_PATH": configuration.pluginDirectories.joined(separator: ":"),
            "PATH": configuration.searchPath,
        ]
    }

    /// The plugin's executable: the first plugin directory holding an executable of that name.
    func executable(for type: String) throws(CNIError) -> String {
        for directory in configuration.pluginDirectories {
            let candidate = (directory.hasSuffix("/") ? directory : directory + "/") + type
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw .pluginNotFound(type: type, searched: configuration.pluginDirectories)
    }

    /// Runs one plugin; returns its stdout when it exits 0.
    func invoke(_ command: CNICommand, _ plugin: CNINetworkConfigList.Plugin, _ list: CNINetworkConfigList,
                _ attachment: CNIAttachment, prevResult: JSONValue?) async throws(CNIError) -> [UInt8] {
        let path = try executable(for: plugin.type)
        let input = Self.request(for: plugin, in: list, attachment: attachment, prevResult: prevResult).serializedBytes()
        let output: CommandResult
        do {
            output = try await runner.run(path, [], environment: environment(command, attachment), input: input)
        } catch {
            throw .pluginFailed(type: plugin.type, command: command.rawValue, code: nil, message: "cannot run \(path): \(error)", details: "")
        }
        guard output.exitCode == 0 else { throw Self.failure(plugin.type, command, output) }
        return output.stdout
    }

    /// The plugin's error: its error JSON on stdout (`{"code", "msg", "details"}`), else its stderr or
    /// stdout text with the exit status.
    static func failure(_ type: String, _ command: CNICommand, _ output: CommandResult) -> CNIError {
        if let error = try? JSONValue.parse(output.stdout), let code = error["code"]?.intValue, let number = Int(exactly: code) {
            return .pluginFailed(type: type, command: command.rawValue, code: number,
                                 message: error["msg"]?.stringValue ?? "", details: error["details"]?.stringValue ?? "")
        }
        var text = output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { text = output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) }
        if text.count > 2000 { text = String(text.prefix(2000)) + "…" }
        return .pluginFailed(type: type, command: command.rawValue, code: nil,
                             message: "exit status \(output.exitCode)" + (text.isEmpty ? " and no output" : ": \(text)"), details: "")
    }

    /// What an operation's errors say it was doing.
    static func context(_ command: CNICommand, _ list: CNINetworkConfigList, _ attachment: CNIAttachment) -> String {
        "CNI \(command.rawValue) of network \"\(list.name)\" on \(attachment.ifName) of container \(attachment.containerID)"
    }

    /// CHECK, and `prevResult` on DEL, came with CNI 0.4.0.
    static func knowsCheck(_ version: String) -> Bool { !version.hasPrefix("0.3.") }
}
