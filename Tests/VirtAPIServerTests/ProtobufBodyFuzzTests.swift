import Foundation
import Testing
import VirtAPI
import VirtError
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// The protobuf body decoder on bytes from anyone who can reach the API port: every input decodes or is
/// refused with the error the edge renders as a 400 (415 for kinds it does not read); none traps.
@Suite struct ProtobufBodyFuzzTests {
    /// Protobuf wire encoding, enough to write the bodies kubectl sends.
    enum Wire {
        static func varint(_ value: UInt64) -> [UInt8] {
            var bytes: [UInt8] = []
            var rest = value
            while rest >= 0x80 {
                bytes.append(UInt8(rest & 0x7F) | 0x80)
                rest >>= 7
            }
            return bytes + [UInt8(rest)]
        }

        static func tag(_ field: Int, _ wire: Int) -> [UInt8] { varint(UInt64(field << 3 | wire)) }
        static func bytes(_ field: Int, _ payload: [UInt8]) -> [UInt8] { tag(field, 2) + varint(UInt64(payload.count)) + payload }
        static func string(_ field: Int, _ text: String) -> [UInt8] { bytes(field, Array(text.utf8)) }
        static func int(_ field: Int, _ value: Int64) -> [UInt8] { tag(field, 0) + varint(UInt64(bitPattern: value)) }
        static func entry(_ field: Int, _ key: String, _ value: [UInt8]) -> [UInt8] { bytes(field, string(1, key) + bytes(2, value)) }

        /// `k8s\0` and a `runtime.Unknown` (typeMeta, raw, contentEncoding, contentType).
        static func envelope(_ apiVersion: String, _ kind: String, _ object: [UInt8]) -> [UInt8] {
            ProtobufBody.magic + bytes(1, string(1, apiVersion) + string(2, kind)) + bytes(2, object) + string(3, "") + string(4, "")
        }
    }

    static let metadata = Wire.bytes(1, Wire.string(1, "fuzz") + Wire.string(3, "default") + Wire.int(7, 3)
        + Wire.bytes(8, Wire.int(1, 1_700_000_000) + Wire.int(2, 5)) + Wire.entry(11, "app", Array("web".utf8))
        + Wire.entry(12, "note", Array("kept".utf8)) + Wire.string(14, "example.com/hold")
        + Wire.bytes(13, Wire.string(1, "Node") + Wire.string(3, "n1") + Wire.string(4, "u-1") + Wire.string(5, "v1") + Wire.int(6, 1)))

    /// One body of each kind the decoder reads, and what it decodes to.
    static let seeds: [(body: [UInt8], expected: JSONValue)] = {
        let meta: JSONValue = [
            "name": "fuzz", "namespace": "default", "generation": 3, "creationTimestamp": "2023-11-14T22:13:20Z",
            "labels": ["app": "web"], "annotations": ["note": "kept"], "finalizers": ["example.com/hold"],
            "ownerReferences": [["kind": "Node", "name": "n1", "uid": "u-1", "apiVersion": "v1", "controller": true]],
        ]
        return [
            (Wire.envelope("v1", "Namespace", metadata + Wire.bytes(2, Wire.string(1, "kubernetes"))),
             ["apiVersion": "v1", "kind": "Namespace", "metadata": meta, "spec": ["finalizers": ["kubernetes"]]]),
            (Wire.envelope("v1", "ConfigMap", metadata + Wire.entry(2, "k", Array("v".utf8)) + Wire.entry(3, "bin", [0, 1, 2]) + Wire.int(4, 1)),
             ["apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": ["k": "v"], "binaryData": ["bin": "AAEC"], "immutable": true]),
            (Wire.envelope("v1", "Secret", metadata + Wire.entry(2, "password", Array("hunter2".utf8)) + Wire.string(3, "Opaque")
                + Wire.entry(4, "user", Array("admin".utf8))),
             ["apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": ["password": "aHVudGVyMg=="], "type": "Opaque",
              "stringData": ["user": "admin"]]),
            (Wire.envelope("policy/v1", "Eviction", metadata + Wire.bytes(2, Wire.int(1, 30) + Wire.bytes(2, Wire.string(1, "u-2"))
                + Wire.string(4, "Foreground") + Wire.string(5, "All"))),
             ["apiVersion": "policy/v1", "kind": "Eviction", "metadata": meta,
              "deleteOptions": ["gracePeriodSeconds": 30, "preconditions": ["uid": "u-2"], "propagationPolicy": "Foreground", "dryRun": ["All"]]]),
            (Wire.envelope("certificates.k8s.io/v1", "CertificateSigningRequest", metadata
                + Wire.bytes(2, Wire.bytes(1, Array("PEM".utf8)) + Wire.string(2, "admin") + Wire.string(4, "system:masters")
                    + Wire.string(5, "client auth") + Wire.string(7, "example.com/signer") + Wire.int(8, 3600))
                + Wire.bytes(3, Wire.bytes(1, Wire.string(1, "Approved") + Wire.string(6, "True") + Wire.string(2, "KubectlApprove")
                    + Wire.bytes(4, Wire.int(1, 1_700_000_000))) + Wire.bytes(2, Array("CERT".utf8)))),
             ["apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": meta,
              "spec": ["request": "UEVN", "username": "admin", "groups": ["system:masters"], "usages": ["client auth"],
                       "signerName": "example.com/signer", "expirationSeconds": 3600],
              "status": ["conditions": [["type": "Approved", "status": "True", "reason": "KubectlApprove", "lastUpdateTime": "2023-11-14T22:13:20Z"]],
                         "certificate": "Q0VSVA=="]]),
        ]
    }()

    /// Wire syntax to splice in: tags of every wire type, lengths past the end and past `Int.max`,
    /// varints that never end, timestamps outside any calendar.
    static let tokens: [[UInt8]] = [
        Wire.varint(.max), Wire.varint(1 << 63), Wire.varint(UInt64(Int.max)), Wire.varint(UInt64(Int.max) - 3),
        Wire.varint(1 << 32), Wire.varint(0x7F), Wire.varint(0x80), [UInt8](repeating: 0xFF, count: 11),
        Wire.tag(1, 2), Wire.tag(2, 2), Wire.tag(8, 2), Wire.tag(11, 2), Wire.tag(1, 0), Wire.tag(7, 0), Wire.tag(3, 3),
        Wire.tag(4, 4), Wire.tag(1, 1), Wire.tag(1, 5), Wire.tag(0, 2), Wire.tag(1, 6), Wire.tag(.max >> 3, 2),
        Wire.tag(1, 2) + Wire.varint(.max), Wire.bytes(8, Wire.int(1, .max)), Wire.bytes(8, Wire.int(1, .min)),
        ProtobufBody.magic,
    ]

    /// Decodes `body`; a failure must be the `VirtError` that becomes a 400 or a 415.
    static func outcome(_ body: [UInt8]) -> Result<JSONValue, VirtError>? {
        do {
            return .success(try ProtobufBody.decode(body))
        } catch let error as VirtError where error.code == .badRequest || error.code == .unsupported {
            return .failure(error)
        } catch {
            return nil
        }
    }

    @Test func validBodiesDecode() throws {
        for (body, expected) in Self.seeds {
            #expect(try ProtobufBody.decode(body) == expected)
        }
    }

    @Test func lengthsBeyondTheBodyAreMalformed() {
        let huge: [UInt64] = [.max, 1 << 63, UInt64(Int.max), UInt64(Int.max) - 3, 1 << 40, 64]
        for length in huge {
            // The object's length, a field inside it, and a skipped field of the envelope.
            let bodies = [
                ProtobufBody.magic + Wire.tag(2, 2) + Wire.varint(length) + [0, 0],
                ProtobufBody.magic + Wire.tag(1, 2) + Wire.varint(length),
                ProtobufBody.magic + Wire.tag(9, 2) + Wire.varint(length) + [1],
                Wire.envelope("v1", "Namespace", Wire.tag(1, 2) + Wire.varint(length) + [1, 2, 3]),
                Wire.envelope("v1", "ConfigMap", Wire.tag(2, 2) + Wire.varint(length)),
            ]
            for body in bodies {
                let error = #expect(throws: VirtError.self) { try ProtobufBody.decode(body) }
                #expect(error?.code == .badRequest, "length \(length)")
            }
        }
    }

    @Test func timestampsOutsideTheCalendarAreMalformed() throws {
        for seconds: Int64 in [.max, .min, 253_402_300_800, -62_135_596_801] {
            let body = Wire.envelope("v1", "Namespace", Wire.bytes(1, Wire.bytes(8, Wire.int(1, seconds))))
            let error = #expect(throws: VirtError.self) { try ProtobufBody.decode(body) }
            #expect(error?.code == .badRequest)
        }
        let first = Wire.envelope("v1", "Namespace", Wire.bytes(1, Wire.bytes(8, Wire.int(1, -62_135_596_800))))
        #expect(try ProtobufBody.decode(first)[path: ["metadata", "creationTimestamp"]] == "0001-01-01T00:00:00Z")
        let last = Wire.envelope("v1", "Namespace", Wire.bytes(1, Wire.bytes(8, Wire.int(1, 253_402_300_799))))
        #expect(try ProtobufBody.decode(last)[path: ["metadata", "creationTimestamp"]] == "9999-12-31T23:59:59Z")
    }

    /// A field repeated 200,000 times decodes in linear time (each element used to copy the list so far).
    @Test func repeatedFieldsDecodeInLinearTime() throws {
        let count = 200_000
        var meta = Wire.string(1, "many")
        for i in 0..<count {
            meta += Wire.string(14, "f")
            meta += Wire.entry(11, "k\(i)", Array("v".utf8))
        }
        let started = ContinuousClock.now
        let object = try ProtobufBody.decode(Wire.envelope("v1", "Namespace", Wire.bytes(1, meta)))
        #expect(object[path: ["metadata", "finalizers"]]?.arrayValue?.count == count)
        #expect(object[path: ["metadata", "labels"]]?.objectValue?.count == count)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func randomBytesDecodeOrThrow() {
        var fuzzer = Fuzzer(seed: 0x5EED_0001)
        let alphabet: [UInt8] = Array(Self.tokens.joined()) + [0x0A, 0x12, 0x1A, 0x22, 0x08, 0x10, 0x01, 0x00]
        for round in 0..<4_000 {
            let tail = fuzzer.bytes(maxCount: 96, alphabet: alphabet)
            // Most behind the envelope's magic, so that they reach the decoder proper.
            let body = round % 8 == 0 ? tail : ProtobufBody.magic + tail
            #expect(Self.outcome(body) != nil, "round \(round): \(body)")
        }
    }

    @Test func mutatedBodiesDecodeOrThrow() {
        var fuzzer = Fuzzer(seed: 0x5EED_0002)
        var decoded = 0
        for round in 0..<6_000 {
            let (seed, _) = Self.seeds[round % Self.seeds.count]
            let body = fuzzer.mutate(seed, tokens: Self.tokens)
            guard let outcome = Self.outcome(body) else {
                Issue.record("round \(round): an error that is not a 400 or 415 for \(body)")
                continue
            }
            if case .success = outcome { decoded += 1 }
        }
        // Some mutations keep the body valid (a flipped bit in a name): both paths run.
        #expect(decoded > 100 && decoded < 5_900, "\(decoded) of 6000 decoded")
    }

    /// The body that killed the daemon: an object length above `Int.max`. The API answers it with a 400.
    @Test func aLengthAboveIntMaxIsA400Status() async throws {
        let directory = try TemporaryDirectory(prefix: "swiftvirt-protobuf")
        defer { withExtendedLifetime(directory) {} }
        let router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: ["secret"])
        try await Bootstrap.ensureNamespaces(router.handler)
        func post(_ body: [UInt8]) async throws -> (Int, JSONValue) {
            let request = APIRequest(method: "POST", path: "/api/v1/namespaces", query: [:], accept: "application/json",
                                     contentType: "application/vnd.kubernetes.protobuf", body: body)
            let response = await router.respond(request, authorization: "Bearer secret")
            guard case .bytes(let bytes) = response.body else { return (response.status, .null) }
            return (response.status, try JSONValue.parse(bytes))
        }
        let (status, answer) = try await post(ProtobufBody.magic + Wire.tag(2, 2) + Wire.varint(1 << 63) + [0])
        #expect(status == 400)
        #expect(answer["kind"] == "Status")
        #expect(answer["reason"] == "BadRequest")
        let (created, namespace) = try await post(Wire.envelope("v1", "Namespace", Wire.bytes(1, Wire.string(1, "fuzz"))))
        #expect(created == 201)
        #expect(namespace[path: ["metadata", "name"]] == "fuzz")
    }
}
