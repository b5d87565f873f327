/// One challenge of a `WWW-Authenticate` header (RFC 7235): `Bearer realm="https://auth.example/token",
/// service="registry.example",scope="repository:guest:pull"` or `Basic realm="Registry"`.
public struct AuthChallenge: Sendable, Equatable {
    /// The scheme, lowercased (`bearer`, `basic`).
    public var scheme: String
    /// The auth-params, names lowercased, values unquoted.
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String] = [:]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    public var realm: String? { parameters["realm"] }

    /// Every challenge in `header`; what cannot be read is skipped, never trapped on. A header may hold
    /// several challenges, separated by commas like their parameters.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: ",") }
            guard !scanner.atEnd else { break }
            let scheme = scanner.token()
            guard !scheme.isEmpty else {
                scanner.advance()  // a byte no challenge starts with
                continue
            }
            var challenge = AuthChallenge(scheme: scheme)
            // Parameters follow after whitespace: `name=value` or `name="quoted"`, separated by commas, until
            // the next word that is not followed by `=` (the next scheme). Registries send no token68 form.
            while true {
                let mark = scanner.position
                scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: ",") }
                let name = scanner.token()
                scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                guard !name.isEmpty, scanner.peek == UInt8(ascii: "=") else {
                    scanner.position = mark
                    break
                }
                scanner.advance()
                scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                let value = scanner.peek == UInt8(ascii: "\"") ? scanner.quoted() : scanner.token()
                challenge.parameters[name.lowercased()] = value
            }
            challenges.append(challenge)
        }
        return challenges
    }

    /// A cursor over the header's bytes.
    struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[position] }

        mutating func advance() { if !atEnd { position += 1 } }

        mutating func skip(while test: (UInt8) -> Bool) {
            while let byte = peek, test(byte) { position += 1 }
        }

        /// RFC 7230 `token` characters, and `/` and `:` (seen unquoted in some registries' values).
        static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return Array("!#$%&'*+-.^_`|~/:".utf8).contains(byte)
            }
        }

        mutating func token() -> String {
            let start = position
            skip(while: Self.isTokenByte)
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// A quoted-string with `\` escapes; an unterminated one runs to the end.
        mutating func quoted() -> String {
            advance()
            var value: [UInt8] = []
            while let byte = peek {
                position += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\"), let next = peek {
                    position += 1
                    value.append(next)
                } else {
                    value.append(byte)
                }
            }
            return String(decoding: value, as: UTF8.self)
        }
    }
}
