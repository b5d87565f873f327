import Foundation
import Testing
@testable import VirtAPIServer

@Suite("Server-set metadata values")
struct ObjectMetadataTests {
    /// Instants to compare with Foundation: edges (1970, leap days, centuries, the second before a day ends)
    /// and 2,000 more from a fixed sequence, between 1906 and 2160.
    static let instants: [Int] = {
        var samples = [0, 59, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_399, 1_798_761_599, -1, -86_401,
                       1_764_201_600, 1_795_750_184]
        var seed: UInt64 = 42
        for _ in 0..<2_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            samples.append(Int(seed >> 33) % 8_000_000_000 - 2_000_000_000)
        }
        return samples
    }()

    @Test("timestamps match Foundation's ISO 8601 form across leap years, centuries and 1970")
    func timestampsMatchFoundation() {
        for seconds in Self.instants {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            #expect(Timestamp.format(seconds: seconds) == date.formatted(.iso8601), "seconds \(seconds)")
        }
        #expect(Timestamp.format(seconds: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(Timestamp.parse(Timestamp.now()) != nil)
    }

    @Test("Date headers match Foundation's RFC 1123 form, weekdays included")
    func httpDatesMatchFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        for seconds in Self.instants {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            #expect(HTTPDate.format(seconds: seconds) == formatter.string(from: date), "seconds \(seconds)")
        }
        #expect(HTTPDate.format(seconds: 1_795_750_184) == "Fri, 27 Nov 2026 03:29:44 GMT")
    }

    @Test("UIDs are lowercase version-4 UUIDs and do not repeat")
    func uidsAreVersionFourUUIDs() {
        var seen = Set<String>()
        for _ in 0..<1_000 {
            let uid = ObjectUID.make()
            #expect(uid.count == 36)
            #expect(UUID(uuidString: uid) != nil, "\(uid)")
            #expect(uid == uid.lowercased())
            let characters = Array(uid)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
            seen.insert(uid)
        }
        #expect(seen.count == 1_000)
    }
}
