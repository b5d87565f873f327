import Foundation
import VirtRegistry

/// Parsing `containerDisk.image` into a local file, an unpacked file system, an OCI layout or a registry
/// reference (anything that is not a path: `quay.io/kubevirt/cirros-container-disk-demo`, `127.0.0.1:5000/guest:v1`).
extension ContainerDiskStore {
    enum Reference: Equatable {
        case file(String)
        case rootfs(String)
        case layout(directory: String, selector: Selector?)
        case registry(ImageReference)
    }

    enum Selector: Equatable, CustomStringConvertible {
        case tag(String)
        case digest(String)

        var description: String {
            switch self {
            case .tag(let tag): "tag \(tag)"
            case .digest(let digest): "digest \(digest)"
            }
        }
    }

    static func parse(_ image: String) throws -> Reference {
        var rest = image
        let explicitLayout = rest.hasPrefix("oci:")
        if explicitLayout { rest.removeFirst(4) }
        if rest.hasPrefix("file://") { rest.removeFirst(7) }
        guard rest.hasPrefix("/") else {
            if explicitLayout || rest.hasPrefix(".") { throw ContainerDiskError.notAbsolute(image: image) }
            do {
                return .registry(try ImageReference.parse(rest))
            } catch {
                throw ContainerDiskError.pullFailed(image: image, error: error)
            }
        }
        if let at = rest.range(of: "@sha256:") ?? rest.range(of: "@sha512:") {
            let directory = String(rest[..<at.lowerBound])
            guard FileSystem.resolvedKind(directory) == .directory else { throw ContainerDiskError.notFound(image: image) }
            return .layout(directory: directory, selector: .digest(String(rest[rest.index(after: at.lowerBound)...])))
        }
        switch FileSystem.resolvedKind(rest) {
        case .regular:
            if explicitLayout { throw ContainerDiskError.invalidLayout(path: rest, detail: "it is a file, not a directory") }
            return .file(rest)
        case .directory:
            if explicitLayout || FileSystem.kind(rest + "/index.json") != nil { return .layout(directory: rest, selector: nil) }
            if FileSystem.resolvedKind(rest + "/disk") == .directory { return .rootfs(rest) }
            throw ContainerDiskError.invalidLayout(path: rest, detail: "no index.json (an OCI image layout) and no disk/ directory")
        default:
            break
        }
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let directory = String(rest[..<colon])
            let tag = String(rest[rest.index(after: colon)...])
            if !tag.isEmpty, FileSystem.resolvedKind(directory) == .directory {
                return .layout(directory: directory, selector: .tag(tag))
            }
        }
        throw ContainerDiskError.notFound(image: image)
    }

    /// The disk file under an unpacked root: `path`, or the only entry of `disk/`.
    static func diskMember(in root: String, path: String?, image: String) throws -> String {
        if let path, !path.isEmpty {
            let relative = try normalizedMemberPath(path, image: image)
            return "\(root)/\(relative)"
        }
        let names = ((try? FileSystem.list("\(root)/disk")) ?? [])
        guard names.count == 1, let name = names.first else {
            throw ContainerDiskError.noDisk(image: image, detail: names.isEmpty
                ? "/disk is empty or missing"
                : "more than one file in /disk (\(names.joined(separator: ", "))): only one disk is allowed, or set containerDisk.path")
        }
        return "\(root)/disk/\(name)"
    }

    /// `containerDisk.path` as a relative member path, refusing `..`.
    static func normalizedMemberPath(_ path: String, image: String) throws -> String {
        let components = path.split(separator: "/").filter { $0 != "." }
        guard !components.isEmpty, !components.contains("..") else {
            throw ContainerDiskError.noDisk(image: image, detail: "containerDisk.path \(path) is not a file path inside the image")
        }
        return components.joined(separator: "/")
    }
}
