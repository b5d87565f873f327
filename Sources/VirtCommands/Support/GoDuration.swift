import VirtError

/// Parses durations written like Go's (`30s`, `2m`, `1h30m`, `500ms`; a bare number is seconds).
public enum GoDuration {
    /// The duration in seconds.
    public static func seconds(_ text: String) throws(VirtError) -> Double {
        if let plain = Double(text) { return plain }
        var total = 0.0
        var number = ""
        var unit = ""
        func flush() throws(VirtError) {
            guard let value = Double(number) else { throw invalid(text) }
            switch unit {
            case "ns": total += value / 1e9
            case "us", "µs": total += value / 1e6
            case "ms": total += value / 1e3
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: throw invalid(text)
            }
            number = ""
            unit = ""
        }
        for c in text {
            if c.isNumber || c == "." {
                if !unit.isEmpty { try flush() }
                number.append(c)
            } else {
                unit.append(c)
            }
        }
        guard !number.isEmpty else { throw invalid(text) }
        try flush()
        return total
    }

    private static func invalid(_ text: String) -> VirtError {
        VirtError(.badRequest, "invalid duration \"\(text)\": use a number with a unit, e.g. 30s, 2m, 1h")
    }
}
