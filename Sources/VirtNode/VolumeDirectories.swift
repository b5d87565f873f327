import VirtAPI
import VirtError

/// Where this node keeps the volumes SwiftVirt's provisioners make, and how a PersistentVolume's source
/// becomes a path here:
///
/// | PV source | path on this node |
/// | --- | --- |
/// | `csi` driver `swiftvirt.io/local` | `<local>/<volumeHandle>` |
/// | `csi` driver `swiftvirt.io/shared` | `<shared>/<volumeHandle>` (every node mounts the same shared directory) |
/// | `local.path`, `hostPath.path` | that path |
public struct VolumeDirectories: Sendable, Equatable {
    /// Node-local volumes (`swiftvirt.io/local`), under the agent's data directory.
    public var local: String
    /// The shared directory every node mounts (`swiftvirt.io/shared`).
    public var shared: String

    public init(local: String = "/var/lib/swiftvirt/volumes", shared: String = "/var/lib/swiftvirt/shared-volumes") {
        self.local = local
        self.shared = shared
    }

    /// The volume's directory, file or device on this node.
    public func path(of volume: PersistentVolume) throws(VirtError) -> String {
        let name = volume.metadata?.name ?? ""
        if let csi = volume.spec?.csi, let driver = csi["driver"]?.stringValue {
            let handle = csi["volumeHandle"]?.stringValue ?? ""
            guard !handle.isEmpty, !handle.contains("/"), handle != ".", handle != ".." else {
                throw VirtError(.invalid, "persistentvolume \"\(name)\": spec.csi.volumeHandle \"\(handle)\" must be a single path component")
            }
            switch driver {
            case StorageNames.localProvisioner: return "\(local)/\(handle)"
            case StorageNames.sharedProvisioner: return "\(shared)/\(handle)"
            default:
                throw VirtError(.unsupported, "persistentvolume \"\(name)\": CSI driver \(driver) is not served by this node; use \(StorageNames.localProvisioner), \(StorageNames.sharedProvisioner), local or hostPath volumes")
            }
        }
        if let path = volume.spec?.local?.path { return path }
        if let path = volume.spec?.hostPath?.path { return path }
        throw VirtError(.unsupported, "persistentvolume \"\(name)\": its volume source is not supported by this node; use a local, hostPath or SwiftVirt-provisioned volume")
    }

    /// Whether this node holds the volume's files: a shared volume is on every node, a local one on the
    /// node its node affinity names.
    public static func holds(_ volume: PersistentVolume, nodeName: String) -> Bool {
        guard let terms = volume.spec?.nodeAffinity?[path: ["required", "nodeSelectorTerms"]]?.arrayValue else { return true }
        return terms.contains { term in
            (term["matchExpressions"]?.arrayValue ?? []).contains { expression in
                expression["key"]?.stringValue == StorageNames.hostnameLabel && expression["operator"]?.stringValue == "In"
                    && (expression["values"]?.arrayValue ?? []).contains(.string(nodeName))
            }
        }
    }
}
