/// Names KubeVirt gives its labels, annotations, finalizers, condition types, reasons and phases; SwiftVirt
/// uses the same strings so tools written for KubeVirt find what they expect. Every component takes them
/// from here, so each name is written once.
public enum KubeVirt {
    /// `apiVersion` of KubeVirt's kinds.
    public static let apiVersion = "kubevirt.io/v1"

    // MARK: Labels and annotations

    /// `kubevirt.io`: `virt-launcher` on launcher pods.
    public static let appLabel = "kubevirt.io"
    /// `kubevirt.io/created-by`: the VMI UID on its launcher pods.
    public static let createdByLabel = "kubevirt.io/created-by"
    /// `vm.kubevirt.io/name`: the VMI name on its launcher pods.
    public static let vmNameLabel = "vm.kubevirt.io/name"
    /// `kubevirt.io/schedulable`: `"true"` on nodes that may run VMs (launcher pods select it).
    public static let schedulableLabel = "kubevirt.io/schedulable"
    /// `kubevirt.io/domain`: the VMI name on its launcher pods.
    public static let domainAnnotation = "kubevirt.io/domain"
    /// `kubevirt.io/vm-generation`: the VM generation a VMI was created from.
    public static let vmGenerationAnnotation = "kubevirt.io/vm-generation"
    /// `kubectl.kubernetes.io/default-container`.
    public static let defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

    /// `kubevirt.io/migrationJobUID`: on a migration's target pod, the migration's UID.
    public static let migrationJobLabel = "kubevirt.io/migrationJobUID"

    // MARK: Finalizers

    /// Held on a VMI until its launcher pods are gone.
    public static let vmiFinalizer = "kubevirt.io/foregroundDeleteVirtualMachine"
    /// Held by the node agent on every launcher pod it runs, so a deleted pod waits for its guest to stop.
    public static let nodeAgentFinalizer = "swiftvirt.io/node-agent"


    // MARK: Resources

    /// The KVM device resource a node advertises when KVM works.
    public static let kvmResource = "devices.kubevirt.io/kvm"
    /// The tun device resource (for tap devices).
    public static let tunResource = "devices.kubevirt.io/tun"

    // MARK: VMI phases

    /// VMI `status.phase` values.
    public enum Phase {
        public static let pending = "Pending"
        public static let scheduling = "Scheduling"
        public static let scheduled = "Scheduled"
        public static let running = "Running"
        public static let succeeded = "Succeeded"
        public static let failed = "Failed"
        public static let unknown = "Unknown"

        /// Whether a phase is final (`Succeeded` or `Failed`).
        public static func isFinal(_ phase: String?) -> Bool {
            phase == succeeded || phase == failed
        }
    }

    // MARK: Run strategies

    /// `spec.runStrategy` values.
    public enum RunStrategy {
        public static let always = "Always"
        public static let rerunOnFailure = "RerunOnFailure"
        public static let manual = "Manual"
        public static let halted = "Halted"
        public static let once = "Once"
        public static let waitAsReceiver = "WaitAsReceiver"
    }

    // MARK: Printable statuses

    /// VM `status.printableStatus` values.
    public enum PrintableStatus {
        public static let stopped = "Stopped"
        public static let starting = "Starting"
        public static let running = "Running"
        public static let paused = "Paused"
        public static let stopping = "Stopping"
        public static let terminating = "Terminating"
        public static let crashLoopBackOff = "CrashLoopBackOff"
        public static let unschedulable = "ErrorUnschedulable"
        public static let errImagePull = "ErrImagePull"
        public static let imagePullBackOff = "ImagePullBackOff"
        /// A DataVolume the VM uses is still being filled.
        public static let provisioning = "Provisioning"
        /// A DataVolume the VM uses failed.
        public static let dataVolumeError = "DataVolumeError"
        public static let unknown = "Unknown"
    }

    // MARK: Condition types

    /// Condition types used on VMs, VMIs and pods.
    public enum ConditionType {
        public static let ready = "Ready"
        /// On a VMI with dataVolume volumes: whether all its DataVolumes are `Ready`.
        public static let dataVolumesReady = "DataVolumesReady"
        public static let paused = "Paused"
        public static let failure = "Failure"
        public static let podScheduled = "PodScheduled"
        public static let synchronized = "Synchronized"
        public static let restartRequired = "RestartRequired"
    }

    // MARK: Condition reasons

    /// Reasons of VMI conditions.
    public enum ConditionReason {
        /// `Paused`: the user paused the guest (pause subresource).
        public static let pausedByUser = "PausedByUser"
        /// `Paused`: QEMU stopped the guest after a disk I/O error.
        public static let pausedIOError = "PausedIOError"
        /// `Paused`: QEMU stopped the guest's CPUs for a reason neither the user nor an I/O error gives.
        public static let pausedByQEMU = "PausedByQEMU"
        /// `Synchronized=False`: the node agent could not bring the guest to what the VMI asks (KubeVirt's wording).
        public static let failedSync = "Synchronizing with the Domain failed."
    }
}
