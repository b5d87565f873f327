import Crypto
import Foundation
import VirtAPI
import VirtOS

/// Reading OCI image layouts: index → (platform index →) manifest → layers, and extracting the disk.
extension ContainerDiskStore {
    struct Descriptor {
        var mediaType: String?
        var digest: String
        var size: Int64?
        var annotations: [String: String]
        var platform: String?

        init(_ value: JSONValue, layout: String) throws {
            guard let digest = value["digest"]?.stringValue else {
                throw ContainerDiskError.invalidLayout(path: layout, detail: "a descriptor has no digest")
            }
            self.digest = digest
            mediaType = value["mediaType"]?.stringValue
            size = value["size"]?.intValue
            var annotations: [String: String] = [:]
            for (key, item) in value["annotations"]?.objectValue ?? [:] {
                if let text = item.stringValue { annotations[key] = text }
            }
            self.annotations = annotations
            if let os = value["platform"]?["os"]?.stringValue, let architecture = value["platform"]?["architecture"]?.stringValue {
                platform = "\(os)/\(architecture)" + (value["platform"]?["variant"]?.stringValue.map { "/\($0)" } ?? "")
            }
        }

        /// The tag or name this descriptor is known by in an index.
        var name: String {
            annotations["org.opencontainers.image.ref.name"] ?? annotations["io.containerd.image.name"] ?? digest
        }

        var isAttestation: Bool { annotations["vnd.docker.reference.type"] != nil }
    }

    func resolveLayout(directory: String, selector: Selector?, path: String?, image: String) async throws -> ContainerDiskImage {
        let index = try readJSON("\(directory)/index.json", layout: directory)
        if let version = try? readJSON("\(directory)/oci-layout", layout: directory)["imageLayoutVersion"]?.stringValue,
            !version.hasPrefix("1.")
        {
            throw ContainerDiskError.invalidLayout(path: directory, detail: "imageLayoutVersion \(version) is not 1.x")
        }
        let selected = try select(from: index, selector: selector, layout: directory)
        return try await resolveImage(selected, layout: directory, path: path, image: image)
    }

    /// The disk of the image `selected` names in `layout` (an index is followed to this node's platform):
    /// taken from the cache when that manifest's disk was extracted before, else extracted from its
    /// layers. `fetchLayers`, when given, first brings the layers into the layout (a registry pull) and
    /// returns the digests it has just verified, which are not hashed again.
    func resolveImage(_ selected: Descriptor, layout directory: String, path: String?, image: String,
                      fetchLayers: (([Descriptor]) async throws -> Set<String>)? = nil) async throws -> ContainerDiskImage {
        var descriptor = selected
        var manifest: JSONValue?
        for _ in 0..<4 {
            let value = try await readBlobJSON(descriptor, layout: directory)
            if value["manifests"] != nil {
                descriptor = try selectPlatform(from: value, layout: directory)
            } else if value["layers"] != nil {
                manifest = value
                break
            } else {
                throw ContainerDiskError.invalidLayout(path: directory, detail: "blob \(descriptor.digest) is neither an image index nor a manifest")
            }
        }
        guard let manifest, let layerValues = manifest["layers"]?.arrayValue else {
            throw ContainerDiskError.invalidLayout(path: directory, detail: "image indexes nest too deeply")
        }

        let member = try path.map { try Self.normalizedMemberPath($0, image: image) }
        let entry = "\(cacheDirectory)/\(Self.cacheKey(manifestDigest: descriptor.digest, member: member))"
        if FileSystem.kind(entry) == .directory, let name = try FileSystem.list(entry).first {
            return try await verifiedDisk(at: "\(entry)/\(name)", image: image)
        }

        let layers = try layerValues.map { try Descriptor($0, layout: directory) }
        let fetched = try await fetchLayers?(layers) ?? []
        let blobs = try layers.map { try blobPath($0, layout: directory) }
        try await verifyDigests(zip(blobs, layers).filter { !fetched.contains($1.digest) }.map { ($0, $1.digest) }, layout: directory)
        var listings: [[String]] = []
        for blob in blobs {
            let result = try await runner.check("tar", ["-t", "--quoting-style=literal", "-f", blob])
            listings.append(result.stdoutText.split(separator: "\n", omittingEmptySubsequences: true).map(String.init))
        }
        let (layer, rawMember) = try Self.findDisk(in: listings, member: member, image: image)

        try FileSystem.makeDirectory(cacheDirectory)
        let scratch = "\(cacheDirectory)/.extract-\(FileSystem.uniqueSuffix())"
        try FileSystem.makeDirectory(scratch, mode: 0o700)
        defer { try? FileSystem.remove(scratch) }
        _ = try await runner.check(
            "tar", ["-x", "-f", blobs[layer], "-C", scratch, "--no-same-owner", "--no-same-permissions", "--no-wildcards", "--", rawMember])
        let extracted = "\(scratch)/\(Self.normalizedListingName(rawMember))"
        guard FileSystem.kind(extracted) == .regular else {
            throw ContainerDiskError.noDisk(image: image, detail: "\(rawMember) in layer \(layers[layer].digest) is not a regular file")
        }
        let disk = try await verifiedDisk(at: extracted, image: image)
        let name = URL(fileURLWithPath: extracted).lastPathComponent
        try FileSystem.makeDirectory("\(scratch)/entry")
        try FileSystem.rename(extracted, "\(scratch)/entry/\(name)")
        _ = chmod("\(scratch)/entry/\(name)", 0o444)
        _ = chmod("\(scratch)/entry", 0o755)
        do {
            try FileSystem.rename("\(scratch)/entry", entry)
        } catch {
            // Another preparer extracted the same image at the same time: use its copy.
            guard FileSystem.kind(entry) == .directory else { throw error }
        }
        return ContainerDiskImage(path: "\(entry)/\(name)", format: disk.format, virtualSize: disk.virtualSize)
    }

    /// `sha256-<hex>` for the default disk, `sha256-<hex>-<path with / as _>` for `containerDisk.path`.
    static func cacheKey(manifestDigest: String, member: String?) -> String {
        let base = manifestDigest.replacingOccurrences(of: ":", with: "-")
        guard let member else { return base }
        return base + "-" + member.map { $0 == "/" ? "_" : $0 }.map(String.init).joined()
    }

    func select(from index: JSONValue, selector: Selector?, layout: String) throws -> Descriptor {
        let manifests = try (index["manifests"]?.arrayValue ?? []).map { try Descriptor($0, layout: layout) }
        guard !manifests.isEmpty else { throw ContainerDiskError.invalidLayout(path: layout, detail: "index.json lists no manifests") }
        switch selector {
        case .tag(let tag):
            let matches = manifests.filter { descriptor in
                let name = descriptor.name
                return name == tag || name.hasSuffix(":\(tag)")
            }
            guard let match = matches.first else {
                throw ContainerDiskError.noSuchImage(layout: layout, reference: tag, available: manifests.map(\.name))
            }
            return match
        case .digest(let digest):
            guard let match = manifests.first(where: { $0.digest == digest }) else {
                throw ContainerDiskError.noSuchImage(layout: layout, reference: digest, available: manifests.map(\.digest))
            }
            return match
        case nil:
            if manifests.count == 1, let only = manifests.first { return only }
            let forUs = manifests.filter { $0.platform == "linux/\(architecture)" }
            if forUs.count == 1, let only = forUs.first { return only }
            throw ContainerDiskError.ambiguous(layout: layout, available: manifests.map(\.name))
        }
    }

    func selectPlatform(from index: JSONValue, layout: String) throws -> Descriptor {
        let manifests = try (index["manifests"]?.arrayValue ?? []).map { try Descriptor($0, layout: layout) }.filter { !$0.isAttestation }
        let wanted = "linux/\(architecture)"
        if let match = manifests.first(where: { $0.platform == wanted || ($0.platform?.hasPrefix(wanted + "/") ?? false) }) {
            return match
        }
        if manifests.count == 1, let only = manifests.first, only.platform == nil { return only }
        throw ContainerDiskError.noPlatform(layout: layout, wanted: wanted, available: manifests.compactMap(\.platform))
    }

    func blobPath(_ descriptor: Descriptor, layout: String) throws -> String {
        let parts = descriptor.digest.split(separator: ":", maxSplits: 1).map(String.init)
        let lengths = ["sha256": 64, "sha512": 128]
        guard parts.count == 2, let length = lengths[parts[0]], parts[1].count == length,
            parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase })
        else {
            throw ContainerDiskError.invalidLayout(path: layout, detail: "unsupported digest \(descriptor.digest)")
        }
        let path = "\(layout)/blobs/\(parts[0])/\(parts[1])"
        guard FileSystem.resolvedKind(path) == .regular else {
            throw ContainerDiskError.invalidLayout(path: layout, detail: "blob \(descriptor.digest) is missing (blobs/\(parts[0])/\(parts[1]))")
        }
        if let size = descriptor.size, let actual = FileSystem.size(path), size != actual {
            throw ContainerDiskError.invalidLayout(path: layout, detail: "blob \(descriptor.digest) has \(actual) bytes, its descriptor says \(size)")
        }
        return path
    }

    func readJSON(_ path: String, layout: String) throws -> JSONValue {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(path)
        } catch {
            throw ContainerDiskError.invalidLayout(path: layout, detail: "cannot read \(path)")
        }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw ContainerDiskError.invalidLayout(path: layout, detail: "\(path): \(error.message)")
        }
    }

    func readBlobJSON(_ descriptor: Descriptor, layout: String) async throws -> JSONValue {
        let path = try blobPath(descriptor, layout: layout)
        try await verifyDigests([(path, descriptor.digest)], layout: layout)
        return try readJSON(path, layout: layout)
    }

    /// Checks blobs against their digests (`sha256:` or `sha512:`), one at a time, each hashed as it is
    /// read in 1 MiB pieces: layers can be many gigabytes.
    func verifyDigests(_ blobs: [(path: String, digest: String)], layout: String) async throws {
        for blob in blobs {
            let actual: String
            if blob.digest.hasPrefix("sha256:") {
                actual = "sha256:" + (try await Self.hexDigest(SHA256.self, of: blob.path))
            } else if blob.digest.hasPrefix("sha512:") {
                actual = "sha512:" + (try await Self.hexDigest(SHA512.self, of: blob.path))
            } else {
                throw ContainerDiskError.invalidLayout(path: layout, detail: "unsupported digest \(blob.digest)")
            }
            guard actual == blob.digest else {
                throw ContainerDiskError.digestMismatch(blob: blob.path, expected: blob.digest, actual: actual)
            }
        }
    }

    /// The lowercase hex digest of the file at `path`, hashed on a thread of its own: a large blob takes
    /// seconds, too long to hold one of the few threads tasks share.
    static func hexDigest<Hash: HashFunction>(_ hash: Hash.Type, of path: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try hexDigestBlocking(Hash.self, of: path) })
            }
        }
    }

    static func hexDigestBlocking<Hash: HashFunction>(_ hash: Hash.Type, of path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXFailure(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        var hasher = Hash()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXFailure(operation: "read", path: path, code: errno)
            }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in hasher.finalize() {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// A `tar -t` name without its leading `./` or `/` and trailing `/`.
    static func normalizedListingName(_ name: String) -> String {
        name.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    /// The layer and raw tar member of the disk in the image's merged file system: `member`, or the only
    /// entry of `disk/`. Layers are applied bottom to top with OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`).
    static func findDisk(in listings: [[String]], member: String?, image: String) throws -> (layer: Int, member: String) {
        let directory = member.map { ($0 as NSString).deletingLastPathComponent } ?? "disk"
        /// Whether `path` is `directory` or one of its ancestors (the root is everyone's ancestor).
        func covers(_ path: String) -> Bool { path.isEmpty || path == directory || directory.hasPrefix(path + "/") }
        // Entries of `directory` in the merged file system: name → (layer, raw member; nil for a subdirectory).
        var entries: [String: (layer: Int, member: String?)] = [:]
        for (layer, listing) in listings.enumerated() {
            let names = listing.map { (raw: $0, name: normalizedListingName($0)) }
            // Whiteouts hide what lower layers put there; they apply before this layer's own files.
            for (_, name) in names {
                let parent = (name as NSString).deletingLastPathComponent
                let base = (name as NSString).lastPathComponent
                guard base.hasPrefix(".wh.") else { continue }
                let hiddenName = String(base.dropFirst(4))
                if hiddenName == ".wh..opq" {
                    if covers(parent) { entries.removeAll() }
                } else if covers(parent.isEmpty ? hiddenName : "\(parent)/\(hiddenName)") {
                    entries.removeAll()
                } else if parent == directory {
                    entries[hiddenName] = nil
                }
            }
            for (raw, name) in names {
                let rest: Substring
                if directory.isEmpty {
                    rest = Substring(name)
                } else if name.hasPrefix(directory + "/") {
                    rest = name.dropFirst(directory.count + 1)
                } else {
                    continue
                }
                guard let first = rest.split(separator: "/").first, !first.hasPrefix(".wh.") else { continue }
                let isDirectory = rest.contains("/") || raw.hasSuffix("/")
                entries[String(first)] = (layer, isDirectory ? nil : raw)
            }
        }
        if let member {
            let base = (member as NSString).lastPathComponent
            guard let found = entries[base], let raw = found.member else {
                throw ContainerDiskError.noDisk(image: image, detail: "no file /\(member) in the image")
            }
            return (found.layer, raw)
        }
        let names = entries.keys.sorted()
        guard names.count == 1, let name = names.first, let found = entries[name] else {
            throw ContainerDiskError.noDisk(image: image, detail: names.isEmpty
                ? "/disk is empty or missing (KubeVirt's containerDisk images put the disk at /disk/<file>)"
                : "more than one file in /disk (\(names.joined(separator: ", "))): only one disk is allowed, or set containerDisk.path")
        }
        guard let raw = found.member else {
            throw ContainerDiskError.noDisk(image: image, detail: "/disk/\(name) is a directory, not a disk file")
        }
        return (found.layer, raw)
    }
}
