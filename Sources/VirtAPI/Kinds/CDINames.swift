/// CDI's names (containerized-data-importer `pkg/controller/common`, `pkg/apis/core/v1beta1`), defined once:
/// the PVC annotations that say what to import and how the import goes, DataVolume phases, condition
/// types and reasons, and event reasons.
public enum CDINames {
    /// cdi.kubevirt.io/v1beta1 DataVolumes.
    public static let apiVersion = "cdi.kubevirt.io/v1beta1"

    /// What to import (written by the DataVolume controller, read by the node agent).
    public enum Annotation {
        public static let endpoint = "cdi.kubevirt.io/storage.import.endpoint"
        /// `http`, `blank`, … (``Source``).
        public static let source = "cdi.kubevirt.io/storage.import.source"
        /// A Secret with `accessKeyId` and `secretKey` (basic auth).
        public static let secretName = "cdi.kubevirt.io/storage.import.secretName"
        /// A ConfigMap whose values are PEM CA certificates.
        public static let certConfigMap = "cdi.kubevirt.io/storage.import.certConfigMap"
        /// `kubevirt` (a disk image) or `archive`.
        public static let contentType = "cdi.kubevirt.io/storage.contentType"
        /// Extra request headers, one annotation each: `<prefix>.<index>` = `Name: value`.
        public static let extraHeaders = "cdi.kubevirt.io/storage.import.extraHeaders"
        /// Secrets whose values are extra request headers, one annotation each: `<prefix>.<index>` = Secret name.
        public static let secretExtraHeaders = "cdi.kubevirt.io/storage.import.secretExtraHeaders"
        /// `"true"`: the server's certificate is not checked (the http source's `insecureSkipVerify`; CDI has no
        /// annotation for it).
        public static let insecureSkipVerify = "swiftvirt.io/import-insecure-skip-verify"
        /// The expected checksum of the download (`sha256:<hex>`, …).
        public static let checksum = "cdi.kubevirt.io/storage.import.checksum"
        /// A registry source's `pullMethod` (`pod` or `node`; both pull on the node agent here).
        public static let registryImportMethod = "cdi.kubevirt.io/storage.import.registryImportMethod"
        /// A registry source's `platform.architecture`: which image of a multi-architecture index is imported
        /// (CDI passes it to its importer pod; SwiftVirt's claim carries it).
        public static let registryArchitecture = "swiftvirt.io/import-registry-architecture"
        /// The import's progress ("NN.NN%"): CDI's populator progress annotation.
        public static let progress = "cdi.kubevirt.io/storage.populator.progress"

        /// How the import runs (written by the node agent, read by the DataVolume controller).
        /// `Pending`, `Running`, `Succeeded`, `Failed`: the phase of CDI's importer pod.
        public static let podPhase = "cdi.kubevirt.io/storage.pod.phase"
        /// How many times the import was restarted.
        public static let podRestarts = "cdi.kubevirt.io/storage.pod.restarts"
        /// The `Running` condition's status (`true`/`false`), reason and message.
        public static let runningCondition = "cdi.kubevirt.io/storage.condition.running"
        public static let runningConditionReason = "cdi.kubevirt.io/storage.condition.running.reason"
        public static let runningConditionMessage = "cdi.kubevirt.io/storage.condition.running.message"
    }

    /// `cdi.kubevirt.io/storage.import.source` values.
    public enum Source {
        public static let http = "http"
        public static let blank = "blank"
        /// A disk image in a container image (`docker://…`), as containerDisks hold it.
        public static let registry = "registry"
    }

    /// DataVolume `status.phase`.
    public enum Phase {
        public static let pending = "Pending"
        public static let waitForFirstConsumer = "WaitForFirstConsumer"
        public static let pvcBound = "PVCBound"
        public static let importScheduled = "ImportScheduled"
        public static let importInProgress = "ImportInProgress"
        public static let succeeded = "Succeeded"
        public static let failed = "Failed"
    }

    /// The importer pod's phases, as the `storage.pod.phase` annotation carries them.
    public enum PodPhase {
        public static let pending = "Pending"
        public static let running = "Running"
        public static let succeeded = "Succeeded"
        public static let failed = "Failed"
    }

    /// DataVolume condition types.
    public enum ConditionType {
        public static let bound = "Bound"
        public static let running = "Running"
        public static let ready = "Ready"
    }

    /// Condition and event reasons.
    public enum Reason {
        public static let bound = "Bound"
        public static let pending = "Pending"
        public static let claimLost = "ClaimLost"
        public static let notFound = "NotFound"
        public static let completed = "Completed"
        public static let error = "Error"
        public static let importScheduled = "ImportScheduled"
        public static let importInProgress = "ImportInProgress"
        public static let importSucceeded = "ImportSucceeded"
        public static let importFailed = "ImportFailed"
        public static let waitForFirstConsumer = "WaitForFirstConsumer"
        public static let errResourceExists = "ErrResourceExists"
    }

    /// The `status.progress` of a DataVolume whose import has not reported one.
    public static let progressUnknown = "N/A"
    /// The file beside an imported volume's `disk.img` that says the image is complete (VirtImport's marker).
    public static let markerSuffix = ".complete"
}
