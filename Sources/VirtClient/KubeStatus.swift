import Foundation
import VirtAPI
import VirtError

/// Turns Kubernetes `Status` responses into `VirtError`s (the reverse of what the API server does at its edge).
public enum KubeStatus {
    /// The error for a non-2xx response. A `Status` body decides code, message and causes; any other body gets
    /// kubectl's generic wording for the HTTP status.
    public static func error(httpStatus: Int, body: [UInt8]) -> VirtError {
        if let value = try? JSONValue.parse(body), value["kind"]?.stringValue == "Status" {
            return error(status: value, httpStatus: httpStatus)
        }
        let text = String(decoding: body.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = defaultReason(httpStatus: httpStatus)
        let message: String
        switch httpStatus {
        case 401: message = "Unauthorized: the bearer token was not accepted (check the token in your kubeconfig)"
        case 403: message = text.isEmpty ? "forbidden" : text
        case 404: message = "the server could not find the requested resource"
        case 405: message = "the server does not allow this method on the requested resource"
        case 415: message = text.isEmpty ? "the server does not accept this content type" : text
        case 500...:
            message = text.isEmpty
                ? "an error on the server has prevented the request from succeeding"
                : "an error on the server (\"\(text)\") has prevented the request from succeeding"
        default:
            message = text.isEmpty
                ? "the server rejected our request for an unknown reason"
                : "the server rejected our request for an unknown reason (\(text))"
        }
        return VirtError(code(reason: reason, httpStatus: httpStatus), message, cause: ServerStatus(httpStatus: httpStatus, reason: reason))
    }

    /// The error a `Status` object describes; `httpStatus` is used when the object has no `code`.
    public static func error(status: JSONValue, httpStatus: Int? = nil) -> VirtError {
        let statusCode = status["code"]?.intValue.map(Int.init) ?? httpStatus ?? 500
        let reason = status["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? defaultReason(httpStatus: statusCode)
        let message = status["message"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? reason
        var causes: [VirtError.Cause] = []
        for cause in status[path: ["details", "causes"]]?.arrayValue ?? [] {
            causes.append(VirtError.Cause(
                reason: cause["reason"]?.stringValue ?? "",
                message: cause["message"]?.stringValue ?? "",
                field: cause["field"]?.stringValue ?? ""
            ))
        }
        var details: VirtError.Details?
        if let d = status["details"], d.objectValue != nil, d["name"] != nil || d["kind"] != nil || d["group"] != nil {
            details = VirtError.Details(
                name: d["name"]?.stringValue ?? "",
                group: d["group"]?.stringValue ?? "",
                kind: d["kind"]?.stringValue ?? ""
            )
        }
        return VirtError(
            code(reason: reason, httpStatus: statusCode),
            message,
            causes: causes,
            details: details,
            cause: ServerStatus(httpStatus: statusCode, reason: reason, status: status)
        )
    }

    /// The `VirtError.Code` for a `Status.reason`, falling back to the HTTP status for reasons it doesn't name.
    public static func code(reason: String, httpStatus: Int) -> VirtError.Code {
        if let code = VirtError.Code(rawValue: reason) { return code }
        switch reason {
        case "Gone": return .gone
        case "ServerTimeout": return .timeout
        case "RequestEntityTooLarge": return .badRequest
        default: break
        }
        switch httpStatus {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 405: return .methodNotAllowed
        case 406: return .notAcceptable
        case 409: return .conflict
        case 410: return .gone
        case 413: return .requestEntityTooLarge
        case 415: return .unsupported
        case 422: return .invalid
        case 429: return .tooManyRequests
        case 503: return .serviceUnavailable
        case 504: return .timeout
        default: return .internal
        }
    }

    /// The reason Kubernetes puts in a `Status` for an HTTP status.
    public static func defaultReason(httpStatus: Int) -> String {
        switch httpStatus {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 406: "NotAcceptable"
        case 409: "Conflict"
        case 410: "Gone"
        case 415: "UnsupportedMediaType"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: httpStatus >= 500 ? "InternalError" : "Unknown"
        }
    }

    /// The server's own answer behind an error, when the error came from the server.
    public static func serverStatus(of error: any Error) -> ServerStatus? {
        if let virt = error as? VirtError { return virt.cause as? ServerStatus }
        return error as? ServerStatus
    }
}
