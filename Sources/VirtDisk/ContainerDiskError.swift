import VirtRegistry

/// Why the image of a containerDisk could not be found or used.
public enum ContainerDiskError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Pulling a registry reference (`quay.io/…:tag`) failed; the registry's own words are in `error`.
    case pullFailed(image: String, error: RegistryError)
    /// `imagePullPolicy: Never` and the node has not pulled the image before.
    case neverPull(image: String)
    /// The image is neither an absolute path nor `oci:/absolute/path`.
    case notAbsolute(image: String)
    /// Nothing exists at the path the image names.
    case notFound(image: String)
    /// The OCI image layout is broken (missing or malformed `index.json`, manifest or blob).
    case invalidLayout(path: String, detail: String)
    /// The layout has no image with the tag or digest the reference asks for.
    case noSuchImage(layout: String, reference: String, available: [String])
    /// The layout holds several images and the reference names none of them.
    case ambiguous(layout: String, available: [String])
    /// A multi-platform image has no manifest for this node's platform.
    case noPlatform(layout: String, wanted: String, available: [String])
    /// A blob's content does not match its digest.
    case digestMismatch(blob: String, expected: String, actual: String)
    /// The image holds no usable disk file (detail says why).
    case noDisk(image: String, detail: String)
    /// The disk file is not raw or qcow2, or is a qcow2 with a backing file, or a raw file of a size no
    /// disk has.
    case unusableDisk(image: String, detail: String)

    public var description: String {
        switch self {
        case .pullFailed(let image, let error):
            return "failed to pull image \"\(image)\": \(error)"
        case .neverPull(let image):
            return "container image \"\(image)\" is not present with pull policy of Never: pull it once with imagePullPolicy IfNotPresent or Always"
        case .notAbsolute(let image):
            return "containerDisk image \(image) is not an absolute path: use /path/to/disk.qcow2, /path/to/oci-layout[:tag] or oci:/path[:tag]"
        case .notFound(let image):
            return "containerDisk image \(image) does not exist on this node"
        case .invalidLayout(let path, let detail):
            return "\(path) is not a usable OCI image layout: \(detail)"
        case .noSuchImage(let layout, let reference, let available):
            return "the OCI layout \(layout) has no image \(reference)" + Self.listing(available)
        case .ambiguous(let layout, let available):
            return "the OCI layout \(layout) holds \(available.count) images; name one as oci:\(layout):TAG" + Self.listing(available)
        case .noPlatform(let layout, let wanted, let available):
            return "the image in \(layout) has no manifest for \(wanted)" + Self.listing(available)
        case .digestMismatch(let blob, let expected, let actual):
            return "blob \(blob) is corrupt: its content has digest \(actual), not \(expected); copy the image again"
        case .noDisk(let image, let detail):
            return "containerDisk image \(image) holds no disk: \(detail)"
        case .unusableDisk(let image, let detail):
            return "the disk of containerDisk image \(image) cannot be used: \(detail)"
        }
    }

    private static func listing(_ available: [String]) -> String {
        available.isEmpty ? "" : " (it has: \(available.joined(separator: ", ")))"
    }
}
