/// CDI's names for clones (`source.pvc`, `sourceRef`) and DataSources, beside ``CDINames``.
extension CDINames {
    /// The annotation on a clone's target claim naming its source claim, `<namespace>/<name>` (CDI's
    /// `k8s.io/CloneRequest`); the node agent holding the target makes the copy.
    public static let cloneRequestAnnotation = "k8s.io/CloneRequest"

    /// DataVolume phases of a clone.
    public enum ClonePhase {
        public static let cloneScheduled = "CloneScheduled"
        public static let cloneInProgress = "CloneInProgress"
    }

    /// Event and condition reasons of clones and DataSources.
    public enum CloneReason {
        public static let cloneScheduled = "CloneScheduled"
        public static let cloneInProgress = "CloneInProgress"
        public static let cloneSucceeded = "CloneSucceeded"
        public static let cloneFailed = "CloneFailed"
        /// A pod that is not done uses the source claim: the clone waits for it.
        public static let cloneSourceInUse = "CloneSourceInUse"
        /// The source claim (or the DataSource naming it) does not exist yet.
        public static let cloneWithoutSource = "CloneWithoutSource"
        /// The source exists but is not populated yet (its import or clone has not succeeded).
        public static let cloneSourceNotReady = "CloneSourceNotReady"
        /// The target is smaller than the source, or the clone cannot be made here.
        public static let cloneValidationFailed = "CloneValidationFailed"
        /// A DataSource whose PVC is populated.
        public static let ready = "Ready"
    }

    /// DataSource condition types.
    public enum DataSourceCondition {
        public static let ready = "Ready"
    }

    /// Whether a claim's content is complete as far as the API can tell: it is bound and, when CDI fills it
    /// (an import annotation or a clone request), the filling succeeded.
    public static func isPopulated(_ claim: JSONValue) -> Bool {
        guard claim[path: ["status", "phase"]]?.stringValue == "Bound", (claim[path: ["metadata", "deletionTimestamp"]] ?? .null) == .null else { return false }
        let annotations = claim[path: ["metadata", "annotations"]]
        let filled = annotations?[Annotation.source] != nil || annotations?[Annotation.endpoint] != nil
            || annotations?[cloneRequestAnnotation] != nil
        return !filled || annotations?[Annotation.podPhase]?.stringValue == PodPhase.succeeded
    }
}
