import Foundation
import VirtAPI
import VirtError

/// `POST apis/upload.cdi.kubevirt.io/v1beta1/namespaces/NS/uploadtokenrequests`: CDI's token for an
/// upload into claim `spec.pvcName` of `NS`. Nothing is stored; the answer is the request with
/// `status.token`, which the upload proxy paths accept (``UploadProxy``) until it expires. Other verbs
/// are refused, as upstream serves this kind for create only.
struct UploadTokenRequests: Sendable {
    let signer: UploadTokenSigner
    let now: @Sendable () -> Date

    static func matches(_ segments: [Substring]) -> Bool {
        segments.count >= 3 && segments[0] == "apis" && segments[1] == Substring(CDINames.Upload.tokenGroup)
            && segments[2] == Substring(CDINames.Upload.tokenVersion) && segments.last.map { !$0.isEmpty } == true
            && (segments.count == 6 || segments.count == 7) && segments[3] == "namespaces" && segments[5] == "uploadtokenrequests"
    }

    func handle(_ request: APIRequest, segments: [Substring]) throws -> APIResponse {
        guard request.method == "POST", segments.count == 6 else {
            throw VirtError(.methodNotAllowed, "uploadtokenrequests are created only (POST …/namespaces/NS/uploadtokenrequests); they are not stored")
        }
        let namespace = String(segments[4])
        let body = try ResourceHandler.parseBody(request.body, contentType: request.contentType)
        guard body["kind"]?.stringValue.map({ $0 == "UploadTokenRequest" }) ?? true else {
            throw VirtError(.badRequest, "the body is a \(body["kind"]?.stringValue ?? ""), not an UploadTokenRequest")
        }
        let typed: UploadTokenRequest
        do {
            typed = try JSONValueDecoder().decode(UploadTokenRequest.self, from: body)
        } catch {
            throw VirtError(.badRequest, "the body is not an UploadTokenRequest: \(error)")
        }
        guard let claim = typed.spec?.pvcName, !claim.isEmpty else {
            throw VirtError(.invalid, "UploadTokenRequest needs spec.pvcName, the claim to upload into",
                            causes: [.init(reason: "FieldValueRequired", message: "Required value", field: "spec.pvcName")])
        }
        if let bodyNamespace = body[path: ["metadata", "namespace"]]?.stringValue, !bodyNamespace.isEmpty, bodyNamespace != namespace {
            throw VirtError(.badRequest, "the namespace of the provided object (\(bodyNamespace)) does not match the namespace sent on the request (\(namespace))")
        }
        let token = signer.sign(UploadToken(namespace: namespace, claim: claim, expires: now().addingTimeInterval(UploadToken.lifetime)))
        var answer = body
        answer["apiVersion"] = .string("\(CDINames.Upload.tokenGroup)/\(CDINames.Upload.tokenVersion)")
        answer["kind"] = "UploadTokenRequest"
        var metadata = answer["metadata"]?.objectValue ?? [:]
        metadata["namespace"] = .string(namespace)
        metadata["creationTimestamp"] = .string(now().formatted(.iso8601))
        answer["metadata"] = .object(metadata)
        answer["status"] = ["token": .string(token)]
        return .json(answer, status: 201)
    }
}
