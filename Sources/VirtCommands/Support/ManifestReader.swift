import Foundation
import VirtAPI
import VirtClient
import VirtError

/// Reads manifests from files, directories and standard input: YAML (multi-document) or JSON, with
/// `kind: List` (and any `…List` with `items`) flattened into its items.
public enum ManifestReader {
    /// One object from a manifest, with where it came from.
    public struct Manifest: Sendable, Equatable {
        /// The object.
        public var object: JSONValue
        /// The file it came from (`-` for standard input).
        public var source: String

        /// Creates a manifest entry.
        public init(object: JSONValue, source: String) {
            self.object = object
            self.source = source
        }
    }

    /// Splits text into objects (the pure part: documents, JSON, lists).
    public static func objects(fromText text: String) throws(VirtError) -> [JSONValue] {
        var out: [JSONValue] = []
        for document in try KubeYAML.documents(text) {
            try flatten(document, into: &out)
        }
        return out
    }

    /// Reads every `-f` argument: a file, a directory (`.yaml`, `.yml`, `.json` files in name order;
    /// subdirectories with `recursive`), or `-` for standard input.
    public static func read(_ paths: [String], recursive: Bool, readStandardInput: () -> [UInt8] = Terminal.readStandardInput) throws(VirtError) -> [Manifest] {
        guard !paths.isEmpty else {
            throw VirtError(.badRequest, "must specify one of -f and -k, e.g. `swiftvirt apply -f vm.yaml`")
        }
        var manifests: [Manifest] = []
        for path in paths {
            if path == "-" {
                let text = String(decoding: readStandardInput(), as: UTF8.self)
                manifests += try parse(text, source: "STDIN")
                continue
            }
            for file in try files(at: path, recursive: recursive) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw VirtError(.notFound, "the path \"\(file)\" cannot be read")
                }
                manifests += try parse(String(decoding: data, as: UTF8.self), source: file)
            }
        }
        return manifests
    }

    /// The manifest files a path stands for.
    public static func files(at path: String, recursive: Bool) throws(VirtError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VirtError(.notFound, "the path \"\(path)\" does not exist")
        }
        guard isDirectory.boolValue else { return [path] }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw VirtError(.forbidden, "cannot list the directory \"\(path)\": \(error.localizedDescription)")
        }
        var files: [String] = []
        for entry in entries where !entry.hasPrefix(".") {
            let full = path.hasSuffix("/") ? path + entry : path + "/" + entry
            var entryIsDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &entryIsDirectory)
            if entryIsDirectory.boolValue {
                if recursive { files += try self.files(at: full, recursive: true) }
            } else if entry.hasSuffix(".yaml") || entry.hasSuffix(".yml") || entry.hasSuffix(".json") {
                files.append(full)
            }
        }
        return files
    }

    private static func parse(_ text: String, source: String) throws(VirtError) -> [Manifest] {
        do throws(VirtError) {
            return try objects(fromText: text).map { Manifest(object: $0, source: source) }
        } catch {
            throw VirtError(error.code, "error parsing \(source): \(error.message)")
        }
    }

    private static func flatten(_ value: JSONValue, into out: inout [JSONValue]) throws(VirtError) {
        guard case .object = value else {
            throw VirtError(.badRequest, "a manifest document must be an object, not \(value.typeName)")
        }
        if let kind = value["kind"]?.stringValue, kind.hasSuffix("List"), let items = value["items"]?.arrayValue {
            for item in items { try flatten(item, into: &out) }
            return
        }
        out.append(value)
    }
}
