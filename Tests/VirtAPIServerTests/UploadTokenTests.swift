import Foundation
import Testing
import VirtAPI
import VirtError
import VirtTestSupport

@testable import VirtAPIServer

/// Upload tokens: what one key signs it accepts until the expiry, for that namespace and claim only;
/// anything else is a 401 that says why. `UploadTokenRequest` hands them out, for create only.
@Suite struct UploadTokenTests {
    let signer = UploadTokenSigner(key: Array(repeating: 7, count: 32))
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aSignedTokenIsAcceptedUntilItExpires() throws {
        let token = UploadToken(namespace: "ns", claim: "disk", expires: now.addingTimeInterval(300))
        let text = signer.sign(token)
        #expect(try signer.verify(Substring(text), now: now) == token)
        #expect(try signer.verify(Substring(text), now: now.addingTimeInterval(299)) == token)
        let expired = #expect(throws: VirtError.self) { try signer.verify(Substring(text), now: now.addingTimeInterval(300)) }
        #expect(expired?.code == .unauthorized)
        #expect(expired?.message.contains("expired") == true)
    }

    @Test func anotherKeyOrAnAlteredPayloadIsRefused() throws {
        let text = signer.sign(UploadToken(namespace: "ns", claim: "disk", expires: now.addingTimeInterval(300)))
        let other = UploadTokenSigner(key: Array(repeating: 8, count: 32))
        #expect(throws: VirtError.self) { try other.verify(Substring(text), now: now) }
        // The same payload naming another claim, with the first token's signature.
        let (_, mac) = (text.split(separator: ".")[0], text.split(separator: ".")[1])
        let forgedPayload = UploadTokenSigner.base64URL(Array(#"{"exp":1800000300,"namespace":"ns","pvc":"other"}"#.utf8))
        let error = #expect(throws: VirtError.self) { try signer.verify(Substring(forgedPayload + "." + mac), now: now) }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("signature") == true)
        for garbage in ["", ".", "abc", "a.b", "!!!.###", String(repeating: "A", count: 5000) + ".x"] {
            #expect(throws: VirtError.self) { try signer.verify(Substring(garbage), now: now) }
        }
    }

    @Test func theDerivedKeyIsTheSameForTheSameClusterSecret() throws {
        let token = UploadToken(namespace: "ns", claim: "disk", expires: now.addingTimeInterval(300))
        let text = UploadTokenSigner.derived(fromClusterSecret: "s3cret").sign(token)
        #expect(try UploadTokenSigner.derived(fromClusterSecret: "s3cret").verify(Substring(text), now: now) == token)
        #expect(throws: VirtError.self) { try UploadTokenSigner.derived(fromClusterSecret: "other").verify(Substring(text), now: now) }
    }

    @Test func anUploadTokenRequestIsAnsweredWithATokenForItsClaim() async throws {
        let api = try await InMemoryAPI(prefix: "upload-token")
        let path = "/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/default/uploadtokenrequests"
        let (status, answer) = try await api.send("POST", path, [
            "apiVersion": "upload.cdi.kubevirt.io/v1beta1", "kind": "UploadTokenRequest",
            "metadata": ["name": "disk"], "spec": ["pvcName": "disk"],
        ])
        #expect(status == 201)
        let text = try #require(answer[path: ["status", "token"]]?.stringValue)
        let token = try api.router.uploadTokens.verify(Substring(text))
        #expect(token.namespace == "default" && token.claim == "disk")
        #expect(token.expires > Date().addingTimeInterval(UploadToken.lifetime - 60))

        let (missing, refusal) = try await api.send("POST", path, ["kind": "UploadTokenRequest", "spec": [:]])
        #expect(missing == 422)
        #expect(refusal["message"]?.stringValue?.contains("spec.pvcName") == true)
        #expect(try await api.send("GET", path).0 == 405)
        #expect(try await api.send("GET", path + "/disk").0 == 405)
        // Discovery lists it for create only.
        let (_, resources) = try await api.send("GET", "/apis/upload.cdi.kubevirt.io/v1beta1")
        let entry = resources["resources"]?.arrayValue?.first { $0["name"]?.stringValue == "uploadtokenrequests" }
        #expect(entry?["verbs"] == ["create"])
    }

    /// Untrusted input: every text is a token or a 401; none traps. Mutations of a valid token never pass
    /// unless they leave it unchanged.
    @Test func mutatedTokensAreRefusedOrAcceptedUnchanged() {
        var fuzzer = Fuzzer(seed: 0x5EED_0C01)
        let token = UploadToken(namespace: "ns", claim: "disk", expires: now.addingTimeInterval(300))
        let valid = Array(signer.sign(token).utf8)
        let tokens: [[UInt8]] = [".", "..", "=", "-", "_", "+", "/", "A", "eyJ", "%", " ", "\u{0}", "\u{FF}"].map { Array($0.utf8) }
            + [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80]]
        var accepted = 0
        for _ in 0..<5_000 {
            let bytes = fuzzer.mutate(valid, tokens: tokens)
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let decoded = try signer.verify(Substring(text), now: now)
                // base64 tolerates no change here: the text decodes to the signed payload and signature.
                #expect(decoded == token, "\(text)")
                accepted += 1
            } catch {
                #expect(error.code == .unauthorized)
            }
        }
        #expect(accepted < 5_000)
        for _ in 0..<3_000 {
            let text = String(decoding: fuzzer.bytes(maxCount: 200), as: UTF8.self)
            do {
                _ = try signer.verify(Substring(text), now: now)
                Issue.record("random text \(text) was accepted")
            } catch {
                #expect(error.code == .unauthorized)
            }
        }
    }
}
