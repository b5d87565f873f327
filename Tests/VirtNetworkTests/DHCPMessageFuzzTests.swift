import Testing
import VirtTestSupport
@testable import VirtNetwork

/// The decoder of what arrives on port 67 reads random and mutated datagrams: each is a message or a
/// `DHCPMessageError`, never a trap; a message it reads encodes and reads back the same, and the reply
/// built for it encodes and reads back too.
@Suite struct DHCPMessageFuzzTests {
    static var seeds: [[UInt8]] {
        let mac = DHCPTestData.clientMAC
        let request = DHCPTestData.request(.request, options: [
            .addresses(.requestedIPAddress, [DHCPAddress(10, 0, 2, 2)]), .addresses(.serverIdentifier, [DHCPAddress(10, 0, 2, 1)]),
        ])
        var overloaded = DHCPMessage(operation: .request, transactionID: 9, clientHardwareAddress: mac.bytes,
                                     options: [DHCPOption(.optionOverload, [3]), DHCPOption(.messageType, [1])]).encoded()
        overloaded.replaceSubrange(108..<115, with: [50, 4, 10, 0, 2, 2, 255])
        overloaded.replaceSubrange(44..<51, with: [54, 4, 10, 0, 2, 1, 255])
        let offer = DHCPResponder.reply(to: DHCPTestData.request(.discover), lease: DHCPTestData.lease, clientMAC: mac)?.encoded() ?? []
        return [DHCPTestData.udhcpcDiscover, request.encoded(), overloaded, offer]
    }

    /// Option syntax to splice in: the end and pad codes, lengths at their limits, option 52 with every
    /// value, option 53 of each type and of the wrong length, the magic cookie.
    static let tokens: [[UInt8]] = [
        [255], [0], [0, 0, 0], [53, 1, 1], [53, 1, 3], [53, 1, 8], [53, 2, 1, 1], [53, 0], [52, 1, 1], [52, 1, 2], [52, 1, 3],
        [52, 1, 255], [52, 0], [50, 4, 10, 0, 2, 2], [50, 3, 10, 0, 2], [54, 4, 10, 0, 2, 1], [61, 255], [61, 254, 1],
        [12, 0], [55, 200], [99, 130, 83, 99], [1, 6], [2, 1, 6, 0], [1, 1, 16, 0], [1, 1, 17],
    ]

    /// Reads `bytes`; checks what holds for every message read.
    func check(_ bytes: [UInt8]) -> Bool {
        let message: DHCPMessage
        do {
            message = try DHCPMessage(bytes: bytes)
        } catch {
            // Typed: nothing but a `DHCPMessageError` can come out.
            _ = error.description
            return false
        }
        if message.option(.optionOverload) == nil {
            #expect((try? DHCPMessage(bytes: message.encoded())) == message)
        }
        _ = (message.messageType, message.requestedAddress, message.serverIdentifier, message.clientMAC)
        if let reply = DHCPResponder.reply(to: message, lease: DHCPTestData.lease, clientMAC: DHCPTestData.clientMAC) {
            let read = try? DHCPMessage(bytes: reply.encoded())
            #expect(read == reply)
            #expect(reply.transactionID == message.transactionID)
        }
        return true
    }

    @Test func seedsAreRead() {
        for seed in Self.seeds { #expect(check(seed)) }
    }

    @Test func randomBytesAreReadOrRefused() {
        var fuzzer = Fuzzer(seed: 0x5EED_1301)
        let alphabet = Array(Self.tokens.joined())
        var read = 0
        for round in 0..<20_000 {
            // Half the inputs start with a valid header and cookie, so the option reader gets random bytes.
            var bytes = fuzzer.bytes(maxCount: 400, alphabet: alphabet)
            if round % 2 == 0 { bytes = Array(Self.seeds[0].prefix(240)) + bytes }
            if check(bytes) { read += 1 }
        }
        #expect(read > 1_000, "read \(read) of 20000")
    }

    @Test func mutatedMessagesAreReadOrRefused() {
        var fuzzer = Fuzzer(seed: 0x5EED_1302)
        let seeds = Self.seeds
        var read = 0, answered = 0
        for round in 0..<20_000 {
            let bytes = fuzzer.mutate(seeds[round % seeds.count], tokens: Self.tokens)
            if check(bytes) {
                read += 1
                if let message = try? DHCPMessage(bytes: bytes),
                   DHCPResponder.reply(to: message, lease: DHCPTestData.lease, clientMAC: DHCPTestData.clientMAC) != nil {
                    answered += 1
                }
            }
        }
        // Many mutations leave a message the responder answers: the reply paths run too.
        #expect(read > 2_000 && answered > 1_000, "read \(read), answered \(answered) of 20000")
    }
}
