import VirtAPI
import VirtClient

extension KubeVirt {
    /// `kubevirt.io/v1` VirtualMachines (all namespaces).
    public static let virtualMachines = ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachines")
    /// `kubevirt.io/v1` VirtualMachineInstances (all namespaces).
    public static let virtualMachineInstances = ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachineinstances")
    /// core/v1 Pods (all namespaces).
    public static let pods = ResourcePath.core("pods")
    /// core/v1 Nodes.
    public static let nodes = ResourcePath.core("nodes")
    /// core/v1 Secrets (all namespaces).
    public static let secrets = ResourcePath.core("secrets")
}

extension StorageNames {
    /// core/v1 PersistentVolumeClaims (all namespaces).
    public static let claims = ResourcePath.core("persistentvolumeclaims")
    /// core/v1 PersistentVolumes.
    public static let volumes = ResourcePath.core("persistentvolumes")
    /// storage.k8s.io/v1 StorageClasses.
    public static let classes = ResourcePath(group: "storage.k8s.io", version: "v1", resource: "storageclasses")
}
