import Foundation

/// RFC 3339 timestamps as Kubernetes writes them in `metav1.Time` fields: UTC, whole seconds
/// (`2024-05-01T10:00:00Z`).
public enum KubeTime {
    /// Formats a date.
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// Parses RFC 3339 text, with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
