/// upload.cdi.kubevirt.io/v1beta1 `UploadTokenRequest`: asks for a token to upload into claim
/// `spec.pvcName`; the answer carries it in `status.token`. Never stored.
public struct UploadTokenRequest: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Equatable {
        /// The claim to upload into.
        public var pvcName: String?
    }

    public struct Status: Codable, Sendable, Equatable {
        /// The bearer token of the upload proxy's paths.
        public var token: String?
    }
}
