import Foundation
import Synchronization
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

/// Object UIDs: random (version 4) UUIDs in lowercase, as Kubernetes writes them. The bytes come from
/// the system generator (`getrandom`); Foundation's `UUID()` opens and reads `/dev/urandom` on each call,
/// three system calls on every create.
public enum ObjectUID {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & ~(0xC << 60)) | (0x8 << 60)  // variant 10xx
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var at = 0
            for word in [high, low] {
                for nibble in 0..<16 {
                    if at == 8 || at == 13 || at == 18 || at == 23 {
                        buffer[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    buffer[at] = digits[Int((word >> UInt64(60 - 4 * nibble)) & 0xF)]
                    at += 1
                }
            }
            return at
        }
    }
}

/// RFC 3339 timestamps as Kubernetes writes them (seconds precision, UTC).
enum Timestamp {
    static func now() -> String {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        return format(seconds: Int(clock.tv_sec))
    }

    static func format(_ date: Date) -> String {
        format(seconds: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for seconds since 1970, without a formatter or time-zone lookup.
    static func format(seconds: Int) -> String {
        let time = CivilTime(secondsSince1970: seconds)
        let fields = [(time.year, 4, UInt8(ascii: "-")), (time.month, 2, UInt8(ascii: "-")), (time.day, 2, UInt8(ascii: "T")),
                      (time.hour, 2, UInt8(ascii: ":")), (time.minute, 2, UInt8(ascii: ":")), (time.second, 2, UInt8(ascii: "Z"))]
        return String(unsafeUninitializedCapacity: 20) { buffer in
            var at = 0
            for (value, width, separator) in fields {
                CivilTime.writeDigits(value, width: width, into: buffer, at: at)
                buffer[at + width] = separator
                at += width + 1
            }
            return at
        }
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

/// A UTC instant's calendar fields, by the civil-from-days arithmetic (proleptic Gregorian calendar).
struct CivilTime {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    /// 0 is Sunday.
    var weekday: Int

    init(secondsSince1970 seconds: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        hour = secondOfDay / 3_600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        // 1970-01-01 was a Thursday.
        weekday = ((days % 7) + 11) % 7
    }

    /// Writes `value` as `width` decimal digits, zero-padded, at `at`.
    static func writeDigits(_ value: Int, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at: Int) {
        var rest = value
        for position in stride(from: width - 1, through: 0, by: -1) {
            buffer[at + position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
    }
}

/// The `Date` header's form (RFC 9110's IMF-fixdate, `Fri, 27 Nov 2026 04:30:00 GMT`), made once a second.
enum HTTPDate {
    private static let last = Mutex<(seconds: Int, text: String)>((-1, ""))
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    static func now() -> String {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let seconds = Int(clock.tv_sec)
        return last.withLock { last in
            if last.seconds != seconds { last = (seconds, format(seconds: seconds)) }
            return last.text
        }
    }

    static func format(seconds: Int) -> String {
        let time = CivilTime(secondsSince1970: seconds)
        return String(unsafeUninitializedCapacity: 29) { buffer in
            func put(_ bytes: [UInt8], at: Int) { for (offset, byte) in bytes.enumerated() { buffer[at + offset] = byte } }
            put(weekdays[time.weekday], at: 0)
            put(Array(", ".utf8), at: 3)
            CivilTime.writeDigits(time.day, width: 2, into: buffer, at: 5)
            buffer[7] = UInt8(ascii: " ")
            put(months[time.month - 1], at: 8)
            buffer[11] = UInt8(ascii: " ")
            CivilTime.writeDigits(time.year, width: 4, into: buffer, at: 12)
            buffer[16] = UInt8(ascii: " ")
            CivilTime.writeDigits(time.hour, width: 2, into: buffer, at: 17)
            buffer[19] = UInt8(ascii: ":")
            CivilTime.writeDigits(time.minute, width: 2, into: buffer, at: 20)
            buffer[22] = UInt8(ascii: ":")
            CivilTime.writeDigits(time.second, width: 2, into: buffer, at: 23)
            put(Array(" GMT".utf8), at: 25)
            return 29
        }
    }
}
