import NIOCore
import NIOHTTP1
import VirtAPI
import VirtError
import VirtStore

/// CDI's upload proxy on the API server's port: `POST` (or `PUT`) `/v1beta1/upload` and
/// `/v1beta1/upload-async` with `Authorization: Bearer TOKEN` (an ``UploadToken`` from an
/// `UploadTokenRequest`), the image as the body. The body streams through to the node agent that holds
/// the claim's volume (``VolumeUploads``), which pipes it into `swiftvirt-importer --file -`.
///
/// Both paths answer once the agent has the whole image (converted, synced, its marker written): the
/// agent runs the import as it receives, so "async" has nothing left to do after the body. The form
/// variants (`/v1beta1/upload-form`, `-async`) take `multipart/form-data` and stream its first part's body
/// (``MultipartFileBody``); another content type there is 415.
/// Refusals are `Status` answers: 401 for a missing, forged or expired token, 404 for no such claim,
/// 400 when the claim is not an upload target or complete already, 503 while it is not ready to receive.
struct UploadProxy: Sendable {
    let store: any RevisionedStore
    let registry: Registry
    let signer: UploadTokenSigner
    let uploads: (any VolumeUploads)?

    static let paths: Set<String> = [CDINames.Upload.syncPath, CDINames.Upload.asyncPath, CDINames.Upload.formPath,
                                     CDINames.Upload.formAsyncPath, "/v1alpha1/upload", "/v1alpha1/upload-async"]

    /// Whether a request target is one of the upload proxy's paths.
    static func matches(_ uri: String) -> Bool {
        paths.contains(APIConnectionHandler.split(target: uri).path)
    }

    /// Answers an upload; never throws. `proceed` is called once the upload is accepted, before its body is
    /// read (the connection answers `100 Continue` there to a client that asked with `Expect`).
    func serve(_ head: HTTPRequestHead, body: UploadRequestBody.Sequence, proceed: @Sendable () -> Void = {}) async -> APIResponse {
        do {
            try await forward(head, body: body, proceed: proceed)
            return APIResponse(status: 200, contentType: "text/plain", body: .bytes([]))
        } catch let error as VirtError {
            return .error(error)
        } catch {
            return .error(VirtError.internalError("\(error)"))
        }
    }

    func forward(_ head: HTTPRequestHead, body: UploadRequestBody.Sequence, proceed: @Sendable () -> Void) async throws {
        let path = APIConnectionHandler.split(target: head.uri).path
        guard head.method == .POST || head.method == .PUT else {
            throw VirtError(.methodNotAllowed, "\(path) takes the image with POST (or PUT)")
        }
        let token = try signer.verify(Self.bearer(head.headers))
        var boundary: String?
        if path.hasPrefix(CDINames.Upload.formPath) {
            guard let found = MultipartFileExtractor.boundary(contentType: head.headers.first(name: "Content-Type") ?? "") else {
                throw VirtError(.unsupported, "\(path) takes multipart/form-data with a boundary (the image as its file part); send a plain body to \(CDINames.Upload.syncPath) instead")
            }
            boundary = found
        }
        let claims = registry.resource(group: "", version: "v1", plural: "persistentvolumeclaims")?.storeResource ?? "/persistentvolumeclaims"
        guard let claim = try await store.get(StoreKey(resource: claims, namespace: token.namespace, name: token.claim))?.object else {
            throw VirtError(.notFound, "persistentvolumeclaims \"\(token.claim)\" not found in namespace \(token.namespace): the token's claim is gone")
        }
        let annotations = claim[path: ["metadata", "annotations"]]
        let annotation = { (key: String) in annotations?[key]?.stringValue }
        let name = "\(token.namespace)/\(token.claim)"
        guard annotation(CDINames.Upload.targetAnnotation) != nil else {
            throw VirtError(.badRequest, "claim \(name) is not an upload target (no \(CDINames.Upload.targetAnnotation)); create a DataVolume with source.upload (swiftvirt image-upload dv NAME does)")
        }
        if annotation(CDINames.Annotation.podPhase) == CDINames.PodPhase.succeeded {
            throw VirtError(.badRequest, "the upload into claim \(name) is complete already; delete the DataVolume to upload again")
        }
        guard annotation(CDINames.Upload.readyAnnotation) == "true", let node = annotation("swiftvirt.io/import-node"), !node.isEmpty else {
            let phase = claim[path: ["status", "phase"]]?.stringValue ?? "Pending"
            throw VirtError(.serviceUnavailable, "claim \(name) is not ready to receive an upload yet (claim \(phase), no node agent has taken it); wait for the DataVolume's phase UploadReady")
        }
        guard let uploads else {
            throw VirtError(.serviceUnavailable, "uploads go to the claim's node agent, which this server reaches only over HTTPS: start it without --insecure-http")
        }
        proceed()
        if let boundary {
            // The file's length is not known before its closing delimiter: chunked to the agent.
            try await uploads.upload(node: node, namespace: token.namespace, claim: token.claim, contentLength: nil,
                                     body: MultipartFileBody(base: body, boundary: boundary))
        } else {
            let length = head.headers.first(name: "Content-Length").flatMap { Int($0) }
            try await uploads.upload(node: node, namespace: token.namespace, claim: token.claim, contentLength: length, body: body)
        }
    }

    /// The token of `Authorization: Bearer TOKEN`.
    static func bearer(_ headers: HTTPHeaders) throws(VirtError) -> Substring {
        guard let header = headers.first(name: "Authorization"), let token = Authenticator.bearerToken(header) else {
            throw VirtError(.unauthorized, "Unauthorized: send the upload token as Authorization: Bearer TOKEN (from an UploadTokenRequest's status.token)")
        }
        return Substring(token)
    }
}

/// How the upload proxy reaches the node agent that holds a claim's volume.
protocol VolumeUploads: Sendable {
    /// Streams `body` into claim `namespace/claim` on `node`'s agent; returns once the agent answered that
    /// the image is complete, throws its refusal or failure otherwise.
    func upload<Body: AsyncSequence & Sendable>(node: String, namespace: String, claim: String, contentLength: Int?, body: Body) async throws
        where Body.Element == ByteBuffer
}
