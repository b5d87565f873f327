/// The one error type every SwiftVirt component throws.
///
/// A `VirtError` carries a `code` that maps onto a Kubernetes `Status` reason at the HTTP edge, a message a
/// user can act on, optional field causes (for validation failures) and an optional underlying error.
public struct VirtError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; decides the HTTP status and `Status.reason`.
    public enum Code: String, Sendable {
        case badRequest = "BadRequest"
        case unauthorized = "Unauthorized"
        case forbidden = "Forbidden"
        case notFound = "NotFound"
        case exists = "AlreadyExists"
        case conflict = "Conflict"
        case gone = "Expired"
        case invalid = "Invalid"
        case invalidState = "InvalidState"
        case unsupported = "UnsupportedMediaType"
        case methodNotAllowed = "MethodNotAllowed"
        case notAcceptable = "NotAcceptable"
        case timeout = "Timeout"
        case tooManyRequests = "TooManyRequests"
        case requestEntityTooLarge = "RequestEntityTooLarge"
        case `internal` = "InternalError"
        case serviceUnavailable = "ServiceUnavailable"

        /// The HTTP status code Kubernetes uses for this reason.
        public var httpStatus: Int {
            switch self {
            case .badRequest: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .notAcceptable: 406
            case .exists, .conflict, .invalidState: 409
            case .gone: 410
            case .unsupported: 415
            case .invalid: 422
            case .requestEntityTooLarge: 413
            case .tooManyRequests: 429
            case .internal: 500
            case .serviceUnavailable: 503
            case .timeout: 504
            }
        }
    }

    /// One field that made a request invalid (`Status.details.causes[]`).
    public struct Cause: Sendable, Equatable {
        /// Kubernetes cause type, e.g. `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`.
        public var reason: String
        public var message: String
        /// The field path, e.g. `spec.template.spec.domain.devices.disks[0].name`.
        public var field: String

        public init(reason: String = "FieldValueInvalid", message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public var code: Code
    public var message: String
    public var causes: [Cause]
    /// The resource the error is about (`Status.details`), when known.
    public var details: Details?
    public var cause: (any Error & Sendable)?

    /// `Status.details`: which object the error is about.
    public struct Details: Sendable, Equatable {
        public var name: String
        public var group: String
        public var kind: String
        public init(name: String, group: String, kind: String) {
            self.name = name
            self.group = group
            self.kind = kind
        }
    }

    public init(_ code: Code, _ message: String, causes: [Cause] = [], details: Details? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.causes = causes
        self.details = details
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }
}

extension VirtError {
    public static func notFound(_ message: String) -> VirtError { VirtError(.notFound, message) }
    public static func invalid(_ message: String, causes: [Cause] = []) -> VirtError { VirtError(.invalid, message, causes: causes) }
    public static func badRequest(_ message: String) -> VirtError { VirtError(.badRequest, message) }
    public static func conflict(_ message: String) -> VirtError { VirtError(.conflict, message) }
    public static func unsupported(_ message: String) -> VirtError { VirtError(.unsupported, message) }
    public static func invalidState(_ message: String) -> VirtError { VirtError(.invalidState, message) }
    public static func internalError(_ message: String, cause: (any Error & Sendable)? = nil) -> VirtError {
        VirtError(.internal, message, cause: cause)
    }
}
