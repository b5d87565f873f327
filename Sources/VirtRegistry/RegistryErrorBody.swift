import Foundation

/// A distribution error body: `{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": …}]}`.
struct RegistryErrorBody: Decodable {
    struct Entry: Decodable {
        var code: String?
        var message: String?
    }

    var errors: [Entry]?

    /// The errors of `bytes`, or nil when they are not such a body.
    static func decode(_ bytes: [UInt8]) -> [Entry]? {
        guard !bytes.isEmpty, let body = try? JSONDecoder().decode(RegistryErrorBody.self, from: Data(bytes)) else { return nil }
        return body.errors?.map { Entry(code: $0.code.map { String($0.prefix(100)) }, message: $0.message.map { String($0.prefix(400)) }) }
    }
}
