import Foundation
import VirtAPI

/// Reads and writes the `metadata` fields the server manages, on stored JSON.
extension JSONValue {
    var metaName: String? { self[path: ["metadata", "name"]]?.stringValue }
    var metaNamespace: String? { self[path: ["metadata", "namespace"]]?.stringValue }
    var metaUID: String? { self[path: ["metadata", "uid"]]?.stringValue }
    var metaResourceVersion: String? { self[path: ["metadata", "resourceVersion"]]?.stringValue }
    var metaFinalizers: [String] { self[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    var metaDeletionTimestamp: String? { self[path: ["metadata", "deletionTimestamp"]]?.stringValue }
    var metaLabels: [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in self[path: ["metadata", "labels"]]?.objectValue ?? [:] {
            if let text = value.stringValue { labels[key] = text }
        }
        return labels
    }
    var metaOwnerReferences: [JSONValue] { self[path: ["metadata", "ownerReferences"]]?.arrayValue ?? [] }
}

/// RFC 3339 timestamps as Kubernetes writes them (seconds precision, UTC).
enum Timestamp {
    static func now() -> String { format(Date()) }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Kubernetes' short human duration: 45s, 5m, 3h, 2d, 1y.
    static func age(since text: String, now: Date = Date()) -> String {
        guard let date = parse(text) else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<(60 * 10): return "\(seconds / 60)m\(seconds % 60 == 0 ? "" : "\(seconds % 60)s")"
        case ..<(60 * 60 * 3): return "\(seconds / 60)m"
        case ..<(60 * 60 * 8): let m = (seconds / 60) % 60; return "\(seconds / 3600)h" + (m == 0 ? "" : "\(m)m")
        case ..<(60 * 60 * 48): return "\(seconds / 3600)h"
        case ..<(60 * 60 * 24 * 8): let h = (seconds / 3600) % 24; return "\(seconds / 86400)d" + (h == 0 ? "" : "\(h)h")
        case ..<(60 * 60 * 24 * 365 * 2): return "\(seconds / 86400)d"
        default: return "\(seconds / (86400 * 365))y"
        }
    }
}
