import Foundation
import VirtAPI

/// Ages as kubectl prints them (`5s`, `3m20s`, `2d4h`), and RFC 3339 timestamps turned into ages.
public enum HumanDuration {
    /// Formats a duration in seconds like Kubernetes' `duration.HumanDuration` (the same rule as the
    /// server's printer columns).
    public static func format(seconds: Int64) -> String {
        PrinterColumn.humanDuration(seconds: seconds)
    }

    /// The age of an RFC 3339 timestamp at `now`, or nil if `timestamp` is not one.
    public static func age(of timestamp: String, now: Date = Date()) -> String? {
        guard let seconds = parseRFC3339(timestamp) else { return nil }
        return format(seconds: Int64((now.timeIntervalSince1970 - seconds).rounded(.down)))
    }

    /// Seconds since 1970 of `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    public static func parseRFC3339(_ text: String) -> Double? {
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var v = 0
            for i in start..<(start + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
            let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                fraction += Double(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index < b.count else { return nil }
        var offset = 0
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == b.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == b.count, b[index + 3] == UInt8(ascii: ":"),
                let oh = digits(index + 1, 2), let om = digits(index + 4, 2)
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let total = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Double(total) + fraction
    }
}
