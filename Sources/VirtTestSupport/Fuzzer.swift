/// Deterministic fuzz cases: random bytes and mutations of valid inputs, from a fixed seed, so a failure
/// found once is found again on every run. Every fuzz test of the project draws from it.
package struct Fuzzer {
    /// SplitMix64: a 64-bit state, one add and two multiply-xorshift rounds per output.
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (`bound` > 0).
    package mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    package mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    package mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Up to `maxCount` random bytes; half the time drawn from `alphabet` (when given), so the bytes look
    /// enough like the format to get past its first checks.
    package mutating func bytes(maxCount: Int, alphabet: [UInt8] = []) -> [UInt8] {
        let count = below(maxCount + 1)
        let fromAlphabet = !alphabet.isEmpty && chance(50)
        return (0..<count).map { _ in fromAlphabet ? pick(alphabet) : UInt8(truncatingIfNeeded: next()) }
    }

    /// `input` with one to four mutations stacked: bit flips, random bytes, truncation, deletion,
    /// insertion of random bytes or of one of `tokens` (the format's own syntax, huge lengths…),
    /// duplicated spans, swapped bytes.
    package mutating func mutate(_ input: [UInt8], tokens: [[UInt8]] = []) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + below(4)) {
            let at = below(bytes.count + 1)
            switch below(tokens.isEmpty ? 8 : 10) {
            case 0 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] ^= 1 << UInt8(below(8))
            case 1 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: next())
            case 2:
                bytes.removeSubrange(at...)
            case 3:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
            case 4:
                bytes.insert(contentsOf: self.bytes(maxCount: 16), at: at)
            case 5, 6:
                let end = min(bytes.count, at + 1 + below(64))
                let span = bytes[at..<end]
                bytes.insert(contentsOf: span, at: below(bytes.count + 1))
            case 7 where bytes.count > 1:
                let other = below(bytes.count)
                let low = min(at, other, bytes.count - 1), high = min(max(at, other), bytes.count - 1)
                bytes.swapAt(low, high)
            case 8, 9:
                let token = pick(tokens)
                if chance(50), at + token.count <= bytes.count {
                    bytes.replaceSubrange(at..<(at + token.count), with: token)
                } else {
                    bytes.insert(contentsOf: token, at: at)
                }
            default:
                bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
            }
        }
        return bytes
    }
}
