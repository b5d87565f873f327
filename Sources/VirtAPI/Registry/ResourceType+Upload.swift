extension ResourceType {
    /// upload.cdi.kubevirt.io/v1beta1 `UploadTokenRequest`: create-only; the answer carries `status.token`,
    /// which the upload proxy paths accept for `spec.pvcName` (nothing is stored).
    public static let uploadTokenRequest = ResourceType(
        group: CDINames.Upload.tokenGroup, version: CDINames.Upload.tokenVersion, kind: "UploadTokenRequest", plural: "uploadtokenrequests",
        subresources: [], verbs: ["create"], admission: .typed(UploadTokenRequest.self))
}
