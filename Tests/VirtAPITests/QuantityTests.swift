import Foundation
import Testing
import VirtError

@testable import VirtAPI

@Suite struct QuantityTests {
    @Test(arguments: [
        ("64Mi", 67_108_864.0, Int64(67_108_864)),
        ("1Gi", 1_073_741_824.0, Int64(1_073_741_824)),
        ("512M", 512_000_000.0, Int64(512_000_000)),
        ("1.5Gi", 1_610_612_736.0, Int64(1_610_612_736)),
        ("100m", 0.1, Int64(1)),
        ("2", 2.0, Int64(2)),
        ("1e3", 1000.0, Int64(1000)),
        ("1E3", 1000.0, Int64(1000)),
        ("5e-1", 0.5, Int64(1)),
        ("1k", 1000.0, Int64(1000)),
        ("1Ki", 1024.0, Int64(1024)),
        ("1Ti", 1_099_511_627_776.0, Int64(1_099_511_627_776)),
        ("1.1G", 1_100_000_000.0, Int64(1_100_000_000)),
        (".5Gi", 536_870_912.0, Int64(536_870_912)),
        ("1.", 1.0, Int64(1)),
        ("+5", 5.0, Int64(5)),
        ("-1", -1.0, Int64(-1)),
        ("0", 0.0, Int64(0)),
        ("1E", 1e18, Int64(1_000_000_000_000_000_000)),
        ("0.1Gi", 107_374_182.4, Int64(107_374_183)),
    ])
    func parses(text: String, value: Double, bytes: Int64) throws {
        let quantity = try Quantity(text)
        #expect(quantity.value == value)
        #expect(quantity.bytes == bytes)
        #expect(quantity.text == text)
        #expect(quantity.description == text)
    }

    @Test func milliValues() throws {
        #expect(try Quantity("100m").milliValue == 100)
        #expect(try Quantity("2").milliValue == 2000)
        #expect(try Quantity("1.5").milliValue == 1500)
        #expect(try Quantity("1u").milliValue == 1)  // rounded up, as Kubernetes does
        #expect(try Quantity("250m").value == 0.25)
    }

    @Test(arguments: ["", "abc", "1.2.3", "1K", "1e", "Mi", "1 Gi", " 1Gi", "1Gb", "--1", "1Gi ", ".", "+", "1ei", "1e3.5", "0x10"])
    func rejects(text: String) {
        #expect(throws: VirtError.self) { try Quantity(text) }
        #expect(Quantity.parse(text) == nil)
    }

    @Test func invalidTextNamesTheFormat() {
        do throws(VirtError) {
            _ = try Quantity("1Gb")
            Issue.record("1Gb parsed")
        } catch {
            #expect(error.code == .invalid)
            #expect(error.message.contains(Quantity.formatMessage))
        }
    }

    @Test func saturatesInsteadOfOverflowing() throws {
        #expect(try Quantity("16Ei").bytes == Int64.max)
        #expect(try Quantity("-16Ei").bytes == Int64.min)
        #expect(try Quantity("1e-40").bytes == 1)
    }

    @Test func formatsBytesWithBinarySuffixes() {
        #expect(Quantity(bytes: 1_073_741_824).text == "1Gi")
        #expect(Quantity(bytes: 1_610_612_736).text == "1536Mi")
        #expect(Quantity(bytes: 67_108_864).text == "64Mi")
        #expect(Quantity(bytes: 1000).text == "1000")
        #expect(Quantity(bytes: 0).text == "0")
        #expect(Quantity(bytes: 2048).bytes == 2048)
        #expect(Quantity(milliValue: 100).text == "100m")
        #expect(Quantity(milliValue: 2000).text == "2")
        #expect(Quantity(milliValue: 100).value == 0.1)
    }

    @Test func equalityIsByValue() throws {
        #expect(try Quantity("1Gi") == Quantity("1024Mi"))
        #expect(try Quantity("1G") != Quantity("1Gi"))
        #expect(try Quantity("1G") < Quantity("1Gi"))
        #expect(try Set([Quantity("1Gi"), Quantity("1024Mi")]).count == 1)
    }

    private struct Holder: Codable, Equatable {
        var size: Quantity
    }

    @Test func decodesFromStringsAndNumbers() throws {
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode(Holder.self, from: ["size": "64Mi"]).size.bytes == 67_108_864)
        let integer = try decoder.decode(Holder.self, from: ["size": 2])
        #expect(integer.size.text == "2")
        #expect(integer.size.value == 2)
        let fraction = try decoder.decode(Holder.self, from: ["size": .double(0.5)])
        #expect(fraction.size.value == 0.5)
        #expect(fraction.size.milliValue == 500)
    }

    @Test func encodesTheOriginalText() throws {
        let holder = try JSONValueDecoder().decode(Holder.self, from: ["size": "1.5Gi"])
        let data = try JSONEncoder().encode(holder)
        #expect(String(decoding: data, as: UTF8.self) == #"{"size":"1.5Gi"}"#)
        let viaFoundation = try JSONDecoder().decode(Holder.self, from: Data(#"{"size":"512M"}"#.utf8))
        #expect(viaFoundation.size.bytes == 512_000_000)
    }

    @Test func invalidTextIsAFieldError() {
        do throws(VirtError) {
            _ = try decodeTracking(Holder.self, from: ["size": "lots"])
            Issue.record("lots decoded")
        } catch {
            #expect(error.code == .invalid)
            #expect(error.causes.count == 1)
            #expect(error.causes.first?.field == "size")
            #expect(error.causes.first?.reason == "FieldValueInvalid")
            #expect(error.causes.first?.message == "Invalid value: \"lots\": \(Quantity.formatMessage)")
        }
    }

    @Test func aBooleanIsATypeError() {
        do throws(VirtError) {
            _ = try decodeTracking(Holder.self, from: ["size": true])
            Issue.record("true decoded")
        } catch {
            #expect(error.causes.first?.field == "size")
            #expect(error.causes.first?.message.contains("must be of type string") == true)
        }
    }
}
