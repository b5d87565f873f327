import Foundation
import VirtAPI
import VirtError
import VirtOS

/// What the node agent must remember about one sandbox's networks to undo them: the namespace, and for
/// each attachment the configuration list it was ADDed with, the CNI arguments and the ADD result.
///
/// The protocol that makes every attachment removable, even if the agent dies in the middle of an ADD:
/// append the attachment (with `result` nil) and `write` the record *before* running its ADD; after the
/// ADD, set `result` and `write` again. Teardown runs DEL for the attachments in reverse order, each
/// with its `result` (nil is fine: DEL after a partial ADD), removes the namespace, then `remove`s the
/// record.
public struct AttachmentRecord: Sendable, Equatable {
    /// One network attached to the sandbox.
    public struct Attachment: Sendable, Equatable {
        /// Which network this is: the pod network's name, or the NetworkAttachmentDefinition `ns/name`.
        public var network: String
        /// The interface in the pod (CNI_IFNAME).
        public var ifName: String
        /// The configuration list ADD ran; DEL must run the same.
        public var configList: CNINetworkConfigList
        /// CNI_ARGS the ADD was given.
        public var args: [CNIAttachment.Argument]
        /// Capability arguments the ADD was given.
        public var capabilityArgs: [String: JSONValue]
        /// The ADD's result, once it succeeded.
        public var result: CNIResult?

        public init(network: String, ifName: String, configList: CNINetworkConfigList, args: [CNIAttachment.Argument] = [],
                    capabilityArgs: [String: JSONValue] = [:], result: CNIResult? = nil) {
            self.network = network
            self.ifName = ifName
            self.configList = configList
            self.args = args
            self.capabilityArgs = capabilityArgs
            self.result = result
        }
    }

    /// The record format's version.
    public static let version: Int64 = 1

    /// The sandbox (CNI_CONTAINERID of every attachment); also the record's file name.
    public var sandboxID: String
    /// The sandbox's network namespace (CNI_NETNS).
    public var namespacePath: String
    /// In ADD order.
    public var attachments: [Attachment]

    public init(sandboxID: String, namespacePath: String, attachments: [Attachment] = []) {
        self.sandboxID = sandboxID
        self.namespacePath = namespacePath
        self.attachments = attachments
    }

    /// The CNI attachment of `attachments[index]`, for ADD, CHECK and DEL.
    public func cniAttachment(_ index: Int) -> CNIAttachment {
        let attachment = attachments[index]
        return CNIAttachment(containerID: sandboxID, netnsPath: namespacePath, ifName: attachment.ifName,
                             args: attachment.args, capabilityArgs: attachment.capabilityArgs)
    }

    /// The record as JSON.
    public var json: JSONValue {
        .object([
            "version": .int(Self.version),
            "sandboxID": .string(sandboxID),
            "namespacePath": .string(namespacePath),
            "attachments": .array(attachments.map { attachment in
                var object: [String: JSONValue] = [
                    "network": .string(attachment.network),
                    "ifName": .string(attachment.ifName),
                    "configList": attachment.configList.json,
                    "args": .array(attachment.args.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
                    "capabilityArgs": .object(attachment.capabilityArgs),
                ]
                if let result = attachment.result { object["result"] = result.json }
                return .object(object)
            }),
        ])
    }

    /// Reads a record from its file's bytes: untrusted (a file a crash may have cut short or someone
    /// edited), so everything is checked and every failure is a `VirtError` naming the field.
    public static func decode(_ bytes: [UInt8]) throws(VirtError) -> AttachmentRecord {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw VirtError(.invalid, "the attachment record is not JSON: \(error.message)")
        }
        do {
            return try read(value)
        } catch {
            guard case .invalidConfig(let field, let reason) = error else {
                throw VirtError(.invalid, "the attachment record is invalid: \(error)", cause: error)
            }
            throw VirtError(.invalid, "the attachment record is invalid: " + (field.isEmpty ? reason : "\(field) \(reason)"), cause: error)
        }
    }

    private static func read(_ value: JSONValue) throws(CNIError) -> AttachmentRecord {
        let fail: (String, String) -> CNIError = { .invalidConfig(field: $0, reason: $1) }
        let top = try CNIFieldReader(value, at: "", failure: fail)
        let version = try top.int("version")
        guard version == Int(Self.version) else {
            throw fail("version", version.map { "\($0) is not a record version this agent reads (\(Self.version))" } ?? "is required")
        }
        var record = AttachmentRecord(sandboxID: try top.requiredString("sandboxID"), namespacePath: try top.requiredString("namespacePath"))
        guard CNINetworkConfigList.isIdentifier(record.sandboxID) else {
            throw fail("sandboxID", "\"\(record.sandboxID)\" must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
        }
        guard record.namespacePath.hasPrefix("/") else { throw fail("namespacePath", "\"\(record.namespacePath)\" must be an absolute path") }
        for reader in try top.objects("attachments") {
            let configList: CNINetworkConfigList
            do {
                configList = try CNINetworkConfigList(json: reader.value("configList") ?? .null)
            } catch {
                throw fail(reader.field("configList"), "is not a valid configuration list: \(error)")
            }
            var result: CNIResult?
            if let json = reader.value("result") {
                do {
                    result = try CNIResult(json: json)
                } catch {
                    throw fail(reader.field("result"), "is not a valid CNI result: \(error)")
                }
            }
            var args: [CNIAttachment.Argument] = []
            for argument in try reader.objects("args") {
                args.append(CNIAttachment.Argument(try argument.requiredString("key"), try argument.requiredString("value")))
            }
            record.attachments.append(Attachment(network: try reader.requiredString("network"), ifName: try reader.requiredString("ifName"),
                                                 configList: configList, args: args,
                                                 capabilityArgs: try reader.object("capabilityArgs")?.members ?? [:], result: result))
            do {
                try record.cniAttachment(record.attachments.count - 1).validate()
            } catch {
                guard case .invalidAttachment(let field, let reason) = error else { throw error }
                throw fail(reader.field(field), reason)
            }
        }
        return record
    }
}

extension AttachmentRecord: Codable {
    public init(from decoder: any Decoder) throws {
        self = try Self.decode(JSONValue(from: decoder).serializedBytes())
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}

/// The attachment records of one node agent: `<directory>/<sandboxID>.json`, each written atomically
/// (a temporary file renamed over it), so a reader sees the old record or the new one, never a mix.
public struct AttachmentRecordStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Writes (or replaces) the record of `record.sandboxID`, creating the directory if needed.
    public func write(_ record: AttachmentRecord) throws {
        let path = try path(of: record.sandboxID)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileClone.writeAtomically(Data(record.json.serialized().utf8), to: path)
        } catch {
            throw VirtError(.internal, "cannot write the attachment record of sandbox \(record.sandboxID) at \(path): \(error)")
        }
    }

    /// The record of `sandboxID`, nil when there is none.
    public func read(_ sandboxID: String) throws -> AttachmentRecord? {
        let path = try path(of: sandboxID)
        guard let data = FileManager.default.contents(atPath: path) else {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            throw VirtError(.internal, "cannot read the attachment record \(path)")
        }
        let record: AttachmentRecord
        do {
            record = try AttachmentRecord.decode(Array(data))
        } catch {
            throw VirtError(error.code, "attachment record \(path): \(error.message)", cause: error.cause)
        }
        guard record.sandboxID == sandboxID else {
            throw VirtError(.invalid, "attachment record \(path) is about sandbox \(record.sandboxID), not \(sandboxID)")
        }
        return record
    }

    /// Removes the record of `sandboxID`; none is fine.
    public func remove(_ sandboxID: String) throws {
        let path = try path(of: sandboxID)
        for file in [path, path + ".tmp"] where FileManager.default.fileExists(atPath: file) {
            do {
                try FileManager.default.removeItem(atPath: file)
            } catch {
                throw VirtError(.internal, "cannot remove the attachment record \(file): \(error.localizedDescription)")
            }
        }
    }

    /// The sandboxes that have a record, sorted (a record that cannot be read is still listed, so a
    /// sweep can find and remove it).
    public func sandboxIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".json") else { return nil }
            let id = String(name.dropLast(".json".count))
            return CNINetworkConfigList.isIdentifier(id) ? id : nil
        }.sorted()
    }

    private func path(of sandboxID: String) throws -> String {
        guard CNINetworkConfigList.isIdentifier(sandboxID) else {
            throw VirtError(.invalid, "\"\(sandboxID)\" cannot name an attachment record: use a letter or digit, then letters, digits, '_', '.' and '-'")
        }
        return "\(directory)/\(sandboxID).json"
    }
}
