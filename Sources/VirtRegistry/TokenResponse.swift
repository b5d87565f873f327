import Foundation

/// A token service's answer: `{"token": "…"}` or `{"access_token": "…"}` (Docker's and OAuth's names).
struct TokenResponse: Decodable {
    var token: String?
    var accessToken: String?

    enum CodingKeys: String, CodingKey {
        case token
        case accessToken = "access_token"
    }

    static func decode(_ bytes: [UInt8], reference: String) throws(RegistryError) -> String {
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(bytes)),
              let token = [decoded.token, decoded.accessToken].compactMap({ $0 }).first(where: { !$0.isEmpty })
        else {
            throw .invalidResponse(reference: reference, detail: "the token service's answer holds no token")
        }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidResponse(reference: reference, detail: "the token service's token is not printable ASCII")
        }
        return token
    }
}
