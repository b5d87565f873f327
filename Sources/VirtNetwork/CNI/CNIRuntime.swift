import Foundation
import VirtAPI
import VirtError
import VirtOS

/// Runs CNI plugins as the CNI spec's runtime does: each plugin of a configuration list is executed with
/// the CNI_* environment and its configuration on stdin, ADD and CHECK in list order, DEL in reverse,
/// each ADD receiving the previous plugin's result as `prevResult`.
///
/// The caller owns the network namespace (creates it before ADD, removes it after DEL), keeps the ADD
/// result for CHECK and DEL (see `AttachmentRecord`), gives ADD, CHECK and DEL of one attachment the same
/// configuration and attachment, and never runs two operations on one container at a time.
///
/// Errors are `VirtError`s whose message names the operation, network, interface and container, with a
/// `CNIError` cause (`VirtError.cniError`).
public struct CNIRuntime: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Where Debian's containernetworking-plugins and the upstream tarball put the plugins.
        public static let defaultPluginDirectories = ["/usr/lib/cni", "/opt/cni/bin"]
        /// The PATH plugins run with (the bridge plugin runs `iptables`, found in the sbin directories).
        public static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

        /// Searched in order for a plugin's executable; also the plugins' CNI_PATH (for their IPAM plugin).
        public var pluginDirectories: [String]
        /// When set, each successful ADD's result is kept here (one file per network, container and
        /// interface) so that a DEL given no `prevResult` still sends it; a DEL removes it.
        public var cacheDirectory: String?
        /// The plugins' PATH.
        public var searchPath: String

        public init(pluginDirectories: [String] = Configuration.defaultPluginDirectories, cacheDirectory: String? = nil,
                    searchPath: String = Configuration.defaultSearchPath) {
            self.pluginDirectories = pluginDirectories
            self.cacheDirectory = cacheDirectory
            self.searchPath = searchPath
        }
    }

    public var configuration: Configuration
    /// Runs the plugins (and nothing else).
    public var runner: any CommandRunner

    public init(configuration: Configuration = Configuration(), runner: any CommandRunner = ProcessRunner()) {
        self.configuration = configuration
        self.runner = runner
    }

    /// ADD: runs every plugin in order and returns the last one's result. When a plugin fails (or
    /// prints no readable result), DEL is run for it and every plugin before it, in reverse, before the
    /// error is thrown, so a failed ADD leaves nothing behind that DEL can remove.
    public func add(_ list: CNINetworkConfigList, _ attachment: CNIAttachment) async throws -> CNIResult {
        let context = Self.context(.add, list, attachment)
        do { try attachment.validate() } catch { throw error.wrapped(context) }
        var previous: CNIResult?
        for (index, plugin) in list.plugins.enumerated() {
            do {
                let output = try await invoke(.add, plugin, list, attachment, prevResult: previous?.json)
                previous = try Self.result(output, type: plugin.type)
            } catch {
                // A plugin that was never found never ran: only those before it need their DEL.
                let ran = if case .pluginNotFound = error { list.plugins[..<index] } else { list.plugins[...index] }
                throw error.wrapped(await undo(Array(ran), list, attachment, prevResult: previous, context: context))
            }
        }
        guard let result = previous else { preconditionFailure("a configuration list has at least one plugin") }
        if let path = cachePath(list, attachment) {
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileClone.writeAtomically(Data(result.serialized().utf8), to: path)
            } catch {
                let undone = await undo(list.plugins, list, attachment, prevResult: result, context: context)
                throw VirtError(.internal, "\(undone): the result could not be cached at \(path): \(error)")
            }
        }
        return result
    }

    /// CHECK: runs every plugin in order with the ADD result; throws the first failure. Returns false,
    /// running nothing, when the list has `disableCheck` or its version predates CHECK (0.3.x).
    @discardableResult
    public func check(_ list: CNINetworkConfigList, _ attachment: CNIAttachment, prevResult: CNIResult) async throws -> Bool {
        let context = Self.context(.check, list, attachment)
        do { try attachment.validate() } catch { throw error.wrapped(context) }
        guard !list.disableCheck, Self.knowsCheck(list.cniVersion) else { return false }
        for plugin in list.plugins {
            do {
                _ = try await invoke(.check, plugin, list, attachment, prevResult: prevResult.json)
            } catch {
                throw error.wrapped(context)
            }
        }
        return true
    }

    /// DEL: runs every plugin in reverse order, each with the ADD result (`prevResult`; when nil, the
    /// cached one if any), all of them even when one fails; then throws the first failure. Safe after a
    /// failed or partial ADD and when repeated: plugins treat DEL of what is not there as success, and a
    /// plugin that is not installed is passed over when there is no ADD result.
    public func delete(_ list: CNINetworkConfigList, _ attachment: CNIAttachment, prevResult: CNIResult?) async throws {
        let context = Self.context(.delete, list, attachment)
        do { try attachment.validate() } catch { throw error.wrapped(context) }
        let path = cachePath(list, attachment)
        let result = prevResult ?? path.flatMap { FileManager.default.contents(atPath: $0) }.flatMap { try? CNIResult.parse(Array($0)) }
        if let failure = await deleteAll(list.plugins, list, attachment, prevResult: result) {
            throw failure.wrapped(context)
        }
        if let path { try? FileManager.default.removeItem(atPath: path) }
    }

    /// DEL of `plugins` (given in ADD order) in reverse; the first failure, after all ran.
    private func deleteAll(_ plugins: [CNINetworkConfigList.Plugin], _ list: CNINetworkConfigList, _ attachment: CNIAttachment,
                           prevResult: CNIResult?) async -> CNIError? {
        let sent = Self.knowsCheck(list.cniVersion) ? prevResult?.json : nil
        var first: CNIError?
        for plugin in plugins.reversed() {
            do {
                _ = try await invoke(.delete, plugin, list, attachment, prevResult: sent)
            } catch {
                // Without an ADD result, a plugin that is not installed has nothing here it could remove:
                // its ADD never ran (a configuration naming a plugin the node lacks). Failing on it would
                // keep the attachment, and every later start of the pod, failing for good. With a result,
                // the plugin did set something up, and its DEL must wait for it to be installed again.
                if case .pluginNotFound = error, prevResult == nil { continue }
                first = first ?? error
            }
        }
        return first
    }

    /// The DEL after a failed ADD; returns the failed ADD's context, telling when that DEL failed too.
    private func undo(_ plugins: [CNINetworkConfigList.Plugin], _ list: CNINetworkConfigList, _ attachment: CNIAttachment,
                      prevResult: CNIResult?, context: String) async -> String {
        guard let failure = await deleteAll(plugins, list, attachment, prevResult: prevResult) else { return context }
        return "\(context) (the DEL run to undo it failed too: \(failure))"
    }

    static func result(_ output: [UInt8], type: String) throws(CNIError) -> CNIResult {
        do {
            return try CNIResult.parse(output)
        } catch {
            switch error {
            case .badResult(_, let detail): throw .badResult(type: type, detail: detail)
            default: throw error
            }
        }
    }

    private func cachePath(_ list: CNINetworkConfigList, _ attachment: CNIAttachment) -> String? {
        configuration.cacheDirectory.map { "\($0)/\(list.name)-\(attachment.containerID)-\(attachment.ifName).json" }
    }
}
