import VirtError

/// Errors about one field of a VMI spec, worded like Kubernetes' `field.Error`s and carrying the field as a cause.
enum FieldError {
    static func invalid(_ field: String, _ detail: String, cause: (any Error & Sendable)? = nil) -> VirtError {
        make(.invalid, "FieldValueInvalid", field, "Invalid value: \(detail)", cause: cause)
    }

    static func required(_ field: String, _ detail: String) -> VirtError {
        make(.invalid, "FieldValueRequired", field, "Required value: \(detail)")
    }

    static func notFound(_ field: String, _ detail: String, cause: (any Error & Sendable)? = nil) -> VirtError {
        make(.notFound, "FieldValueNotFound", field, "Not found: \(detail)", cause: cause)
    }

    static func notSupported(_ field: String, _ detail: String) -> VirtError {
        make(.invalid, "FieldValueNotSupported", field, "Unsupported value: \(detail)")
    }

    private static func make(
        _ code: VirtError.Code, _ reason: String, _ field: String, _ message: String, cause: (any Error & Sendable)? = nil
    ) -> VirtError {
        VirtError(code, "\(field): \(message)", causes: [VirtError.Cause(reason: reason, message: message, field: field)], cause: cause)
    }
}
