import Foundation

/// Base64 as Docker configs and HTTP basic auth use it (standard alphabet, padded).
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// The bytes of `text`, or nil when it is not base64 (padding may be missing, as some tools write it).
    static func decode(_ text: String) -> [UInt8]? {
        var padded = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while padded.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map(Array.init)
    }
}
