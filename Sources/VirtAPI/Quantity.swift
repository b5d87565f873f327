import VirtError

/// A Kubernetes `resource.Quantity`: `64Mi`, `1Gi`, `512M`, `1.5Gi`, `100m`, `2`, `1e3`.
///
/// It decodes from a JSON string or number, keeps the text it was given (and encodes that text back), and
/// computes its value exactly: a decimal mantissa times a power of two and a power of ten. Two quantities
/// are equal when their values are equal (`1Gi == 1024Mi`).
public struct Quantity: Sendable, CustomStringConvertible {
    /// The text as given (a number given in JSON is kept as its decimal text).
    public let text: String
    /// Decimal digits of the number, with its sign.
    let mantissa: Int128
    /// Power of ten applied to `mantissa` (negative for fractional digits).
    let exponent10: Int
    /// Power of two applied to `mantissa` (from binary suffixes: Ki = 10, Mi = 20, …).
    let exponent2: Int

    /// The message Kubernetes gives for text that is not a quantity.
    public static let formatMessage =
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

    /// Parses Kubernetes quantity text.
    public init(_ text: String) throws(VirtError) {
        guard let parsed = Quantity.parse(text) else {
            throw VirtError(.invalid, "invalid quantity \"\(text)\": \(Quantity.formatMessage)")
        }
        self = parsed
    }

    /// A byte count, written with the largest binary suffix that divides it exactly (`1Gi`, `1536Mi`, `1000`).
    public init(bytes: Int64) {
        let suffixes: [(String, Int)] = [("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)]
        var text = String(bytes)
        if bytes != 0 {
            for (suffix, shift) in suffixes where bytes % (Int64(1) << shift) == 0 {
                text = "\(bytes / (Int64(1) << shift))\(suffix)"
                break
            }
        }
        self.init(text: text, mantissa: Int128(bytes), exponent10: 0, exponent2: 0)
    }

    /// A value in thousandths (`100m` for 0.1 CPU, `2` for 2000).
    public init(milliValue: Int64) {
        let text = milliValue % 1000 == 0 ? String(milliValue / 1000) : "\(milliValue)m"
        self.init(text: text, mantissa: Int128(milliValue), exponent10: -3, exponent2: 0)
    }

    init(text: String, mantissa: Int128, exponent10: Int, exponent2: Int) {
        self.text = text
        self.mantissa = mantissa
        self.exponent10 = exponent10
        self.exponent2 = exponent2
    }

    public var description: String { text }

    /// The value in base units (bytes, cores), as a `Double`.
    public var value: Double {
        guard let scaled = Double("\(mantissa)e\(exponent10)") else { return 0 }
        return scaled * Double(sign: .plus, exponent: exponent2, significand: 1)
    }

    /// The value in base units rounded up to a whole number (saturating at `Int64`'s range).
    public var bytes: Int64 { scaled(exponent10: 0) }

    /// The value in thousandths of a base unit, rounded up (`100m` → 100, `2` → 2000).
    public var milliValue: Int64 { scaled(exponent10: 3) }

    /// `mantissa × 2^exponent2 × 10^(exponent10 + extra)`, rounded toward positive infinity.
    func scaled(exponent10 extra: Int) -> Int64 {
        var m = mantissa
        if m == 0 { return 0 }
        for _ in 0..<exponent2 {
            let (r, overflow) = m.multipliedReportingOverflow(by: 2)
            if overflow { return m < 0 ? Int64.min : Int64.max }
            m = r
        }
        let e = exponent10 + extra
        if e >= 0 {
            for _ in 0..<e {
                let (r, overflow) = m.multipliedReportingOverflow(by: 10)
                if overflow { return m < 0 ? Int64.min : Int64.max }
                m = r
            }
        } else if -e > 38 {
            return m > 0 ? 1 : 0
        } else {
            var divisor: Int128 = 1
            for _ in 0..<(-e) { divisor *= 10 }
            let (q, r) = m.quotientAndRemainder(dividingBy: divisor)
            m = (r > 0) ? q + 1 : q
        }
        if m > Int128(Int64.max) { return Int64.max }
        if m < Int128(Int64.min) { return Int64.min }
        return Int64(m)
    }

    /// Parses the Kubernetes quantity grammar: a signed decimal number, then a binary suffix
    /// (Ki Mi Gi Ti Pi Ei), a decimal suffix (n, u, m, k, M, G, T, P, E) or a decimal exponent (e3, E-2).
    static func parse(_ text: String) -> Quantity? {
        let bytes = Array(text.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while i < bytes.count {
            let b = bytes[i]
            if b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                digits.append(b - UInt8(ascii: "0"))
                if seenPoint { fractionDigits += 1 }
            } else if b == UInt8(ascii: ".") {
                if seenPoint { return nil }
                seenPoint = true
            } else {
                break
            }
            i += 1
        }
        if digits.isEmpty { return nil }
        let suffix = String(decoding: bytes[i...], as: UTF8.self)

        var exponent10 = -fractionDigits
        var exponent2 = 0
        switch suffix {
        case "": break
        case "Ki": exponent2 = 10
        case "Mi": exponent2 = 20
        case "Gi": exponent2 = 30
        case "Ti": exponent2 = 40
        case "Pi": exponent2 = 50
        case "Ei": exponent2 = 60
        case "n": exponent10 -= 9
        case "u": exponent10 -= 6
        case "m": exponent10 -= 3
        case "k": exponent10 += 3
        case "M": exponent10 += 6
        case "G": exponent10 += 9
        case "T": exponent10 += 12
        case "P": exponent10 += 15
        case "E": exponent10 += 18
        default:
            let s = Array(suffix.utf8)
            guard s.count >= 2, s[0] == UInt8(ascii: "e") || s[0] == UInt8(ascii: "E") else { return nil }
            var rest = s.dropFirst()
            var expNegative = false
            if let first = rest.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                expNegative = first == UInt8(ascii: "-")
                rest = rest.dropFirst()
            }
            guard !rest.isEmpty, rest.count <= 6, rest.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = Int(String(decoding: rest, as: UTF8.self))
            else { return nil }
            exponent10 += expNegative ? -value : value
        }

        // Leading zeros carry no information; keep at most 36 significant digits, rounding up what is cut.
        var significant = digits.drop(while: { $0 == 0 })
        var roundUp = false
        while significant.count > 36 {
            if let last = significant.last, last != 0 { roundUp = true }
            significant = significant.dropLast()
            exponent10 += 1
        }
        var mantissa: Int128 = 0
        for d in significant { mantissa = mantissa * 10 + Int128(d) }
        if roundUp { mantissa += 1 }
        if negative { mantissa = -mantissa }
        return Quantity(text: text, mantissa: mantissa, exponent10: exponent10, exponent2: exponent2)
    }
}

extension Quantity: Codable {
    public init(from decoder: any Decoder) throws {
        self = try Quantity.read(try JSONValue(from: decoder), at: .root, JSONReadContext(tracking: false, prefix: decoder.codingPath))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

extension Quantity: Hashable, Comparable {
    public static func == (lhs: Quantity, rhs: Quantity) -> Bool { lhs.value == rhs.value }
    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.value < rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
