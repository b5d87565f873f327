extension CDINames {
    /// CDI's names for uploads (`source.upload`, `virtctl image-upload`): the claim annotations that mark
    /// an upload target and say that it is ready to receive, the phases and reasons, and the upload API.
    public enum Upload {
        /// On the claim of an upload DataVolume (written by the DataVolume controller): bytes come from an upload.
        public static let targetAnnotation = "cdi.kubevirt.io/storage.upload.target"
        /// `"true"` once the node agent that holds the claim's volume receives uploads (CDI: the upload
        /// server pod is ready).
        public static let readyAnnotation = "cdi.kubevirt.io/storage.pod.ready"
        /// `"true"` on a DataVolume (copied to its claim): bind it now even when its class binds on first
        /// consumer (`virtctl image-upload --force-bind`).
        public static let bindImmediateAnnotation = "cdi.kubevirt.io/storage.bind.immediate.requested"
        /// The import source value of an upload target.
        public static let source = "upload"

        public static let phaseScheduled = "UploadScheduled"
        public static let phaseReady = "UploadReady"
        public static let reasonScheduled = "UploadScheduled"
        public static let reasonReady = "UploadReady"
        public static let reasonSucceeded = "UploadSucceeded"
        public static let reasonFailed = "UploadFailed"

        /// upload.cdi.kubevirt.io/v1beta1.
        public static let tokenGroup = "upload.cdi.kubevirt.io"
        public static let tokenVersion = "v1beta1"
        /// The upload proxy's paths: synchronous (answers once the image is complete), asynchronous, and
        /// the multipart form variants.
        public static let syncPath = "/v1beta1/upload"
        public static let asyncPath = "/v1beta1/upload-async"
        public static let formPath = "/v1beta1/upload-form"
        public static let formAsyncPath = "/v1beta1/upload-form-async"
    }
}
