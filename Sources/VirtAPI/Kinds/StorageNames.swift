/// Names of storage annotations, finalizers, provisioners and classes, defined once (Kubernetes' own
/// where Kubernetes has one; `swiftvirt.io/…` for SwiftVirt's provisioners).
public enum StorageNames {
    /// The provisioner of node-local volumes (RWO): a directory under the node agent's data directory.
    public static let localProvisioner = "swiftvirt.io/local"
    /// The provisioner of shared volumes (RWX): a directory every node mounts.
    public static let sharedProvisioner = "swiftvirt.io/shared"
    /// The built-in StorageClasses the daemon creates when they are missing.
    public static let localClass = "local"
    public static let sharedClass = "shared"

    /// A StorageClass annotated `"true"` is the default of claims that name no class.
    public static let defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"
    /// On a PVC: the binding is complete (`"yes"`).
    public static let bindCompletedAnnotation = "pv.kubernetes.io/bind-completed"
    /// On a PVC and its PV: the controller (not the user) made the binding (`"yes"`).
    public static let boundByControllerAnnotation = "pv.kubernetes.io/bound-by-controller"
    /// On a PV: the provisioner that made it.
    public static let provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"
    /// On a PVC: the provisioner that is to make its volume (and the beta key, which clients still read).
    public static let storageProvisionerAnnotation = "volume.kubernetes.io/storage-provisioner"
    public static let betaStorageProvisionerAnnotation = "volume.beta.kubernetes.io/storage-provisioner"
    /// On a PVC of a `WaitForFirstConsumer` class: the node the scheduler chose for its first pod.
    public static let selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

    /// A PVC used by a pod is not removed until no pod uses it.
    public static let pvcProtectionFinalizer = "kubernetes.io/pvc-protection"
    /// A provisioned PV keeps this until a node agent removed its files (reclaim policy `Delete`).
    public static let volumeReclaimFinalizer = "swiftvirt.io/volume-reclaim"

    /// The node label local volumes' node affinity selects on.
    public static let hostnameLabel = "kubernetes.io/hostname"
    /// The file that holds a volume's disk in a `Filesystem` volume (and backs a `Block` one), as KubeVirt names it.
    public static let diskImageName = "disk.img"

    /// `volumeBindingMode`s.
    public static let immediate = "Immediate"
    public static let waitForFirstConsumer = "WaitForFirstConsumer"
}
