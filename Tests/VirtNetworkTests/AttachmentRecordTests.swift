import Foundation
import Testing
import VirtAPI
import VirtError
import VirtTestSupport

@testable import VirtNetwork

/// The per-sandbox record of what was attached: written atomically, read back exactly, listed, removed;
/// and, read from disk, treated as untrusted input (fuzzed).
@Suite struct AttachmentRecordTests {
    let directory: TemporaryDirectory
    var store: AttachmentRecordStore { AttachmentRecordStore(directory: directory.path + "/network") }

    init() throws { directory = try TemporaryDirectory(prefix: "attachment-records") }

    static func sample() throws -> AttachmentRecord {
        let pod = try CNINetworkConfigList.parse(#"{"cniVersion":"1.0.0","name":"swiftvirt-pod-network","plugins":[{"type":"bridge","bridge":"swiftvirt0","ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.0.0/24"}]]}},{"type":"firewall"}]}"#)
        let blue = try CNINetworkConfigList.parse(#"{"cniVersion":"0.3.1","name":"blue","type":"macvlan","master":"br1","capabilities":{"mac":true}}"#)
        let args = CNIAttachment.kubernetesArgs(podNamespace: "default", podName: "virt-launcher-vm1-x", sandboxID: "default_virt-launcher-vm1-x", podUID: "u1")
        return AttachmentRecord(sandboxID: "default_virt-launcher-vm1-x", namespacePath: "/run/swiftvirt/n1/netns/default_virt-launcher-vm1-x", attachments: [
            .init(network: "swiftvirt-pod-network", ifName: "eth0", configList: pod, args: args,
                  result: CNIResult(interfaces: [.init(name: "eth0", mac: "02:00:00:00:00:01", sandbox: "/run/swiftvirt/n1/netns/default_virt-launcher-vm1-x")],
                                    ips: [.init(address: "10.244.0.2/24", gateway: "10.244.0.1", interface: 0)])),
            .init(network: "default/blue", ifName: "net1", configList: blue, args: args, capabilityArgs: ["mac": "02:00:00:00:00:aa"]),
        ])
    }

    @Test func aRecordIsWrittenAtomicallyAndReadBackExactly() throws {
        let record = try Self.sample()
        try store.write(record)
        #expect(try store.read(record.sandboxID) == record)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory) == ["default_virt-launcher-vm1-x.json"])  // no temporary left

        // The ADD finished: the result is added in place of the record.
        var updated = record
        updated.attachments[1].result = CNIResult(ips: [.init(address: "192.168.1.5/24")])
        try store.write(updated)
        #expect(try store.read(record.sandboxID) == updated)
        #expect(try store.read(record.sandboxID)?.cniAttachment(1) == CNIAttachment(
            containerID: "default_virt-launcher-vm1-x", netnsPath: "/run/swiftvirt/n1/netns/default_virt-launcher-vm1-x", ifName: "net1",
            args: record.attachments[1].args, capabilityArgs: ["mac": "02:00:00:00:00:aa"]))
    }

    @Test func theFileIsTheDocumentedJSON() throws {
        let record = AttachmentRecord(sandboxID: "s1", namespacePath: "/ns/s1", attachments: [
            .init(network: "blue", ifName: "net1", configList: try CNINetworkConfigList.parse(#"{"cniVersion":"1.0.0","name":"blue","type":"bridge"}"#),
                  args: [.init("IgnoreUnknown", "true")]),
        ])
        try store.write(record)
        let text = try String(contentsOfFile: store.directory + "/s1.json", encoding: .utf8)
        #expect(text == #"{"attachments":[{"args":[{"key":"IgnoreUnknown","value":"true"}],"capabilityArgs":{},"configList":{"cniVersion":"1.0.0","name":"blue","plugins":[{"cniVersion":"1.0.0","name":"blue","type":"bridge"}]},"ifName":"net1","network":"blue"}],"namespacePath":"/ns/s1","sandboxID":"s1","version":1}"#)
    }

    @Test func recordsAreListedAndRemovedAndRemovingTwiceIsFine() throws {
        #expect(store.sandboxIDs() == [])  // no directory yet
        #expect(try store.read("s1") == nil)
        for id in ["s2", "s1"] { try store.write(AttachmentRecord(sandboxID: id, namespacePath: "/ns/\(id)")) }
        _ = FileManager.default.createFile(atPath: store.directory + "/s3.json.tmp", contents: Data("{".utf8))  // an interrupted write
        _ = FileManager.default.createFile(atPath: store.directory + "/s4.json", contents: Data("{".utf8))  // a damaged record: still listed
        #expect(store.sandboxIDs() == ["s1", "s2", "s4"])
        #expect(throws: VirtError.self) { try store.read("s4") }

        try store.remove("s1")
        try store.remove("s1")
        try store.remove("s4")
        #expect(store.sandboxIDs() == ["s2"])
    }

    @Test func aRecordMustBeAboutItsSandboxAndIdsCannotLeaveTheDirectory() throws {
        try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true)
        try AttachmentRecord(sandboxID: "other", namespacePath: "/ns/other").json.serialized().write(toFile: store.directory + "/s1.json", atomically: true, encoding: .utf8)
        let error = try #require(throws: VirtError.self) { try store.read("s1") }
        #expect(error.message == "attachment record \(store.directory)/s1.json is about sandbox other, not s1")
        for bad in ["../s1", "", ".hidden", "a/b"] {
            #expect(throws: VirtError.self) { try store.read(bad) }
            #expect(throws: VirtError.self) { try store.write(AttachmentRecord(sandboxID: bad, namespacePath: "/ns")) }
        }
    }

    @Test(arguments: [
        (#"{"version":2,"sandboxID":"s","namespacePath":"/n","attachments":[]}"#, "version 2 is not a record version this agent reads (1)"),
        (#"{"sandboxID":"s","namespacePath":"/n"}"#, "version is required"),
        (#"{"version":1,"namespacePath":"/n"}"#, "sandboxID is required"),
        (#"{"version":1,"sandboxID":"../x","namespacePath":"/n"}"#, #"sandboxID "../x" must start with a letter or digit"#),
        (#"{"version":1,"sandboxID":"s","namespacePath":"n"}"#, #"namespacePath "n" must be an absolute path"#),
        (#"{"version":1,"sandboxID":"s","namespacePath":"/n","attachments":[{"network":"b","ifName":"net1"}]}"#,
         "attachments[0].configList is not a valid configuration list: invalid CNI configuration: the document must be a JSON object, not null"),
        (#"{"version":1,"sandboxID":"s","namespacePath":"/n","attachments":[{"network":"b","ifName":"net1","configList":{"cniVersion":"1.0.0","name":"b","type":"x"},"result":{"cniVersion":"1.0.0","ips":[{}]}}]}"#,
         "attachments[0].result is not a valid CNI result: unreadable CNI result: ips[0].address is required"),
        (#"{"version":1,"sandboxID":"s","namespacePath":"/n","attachments":[{"network":"b","ifName":"net/1","configList":{"cniVersion":"1.0.0","name":"b","type":"x"}}]}"#,
         #"attachments[0].ifName "net/1" must be 1 to 15 characters"#),
        (#"{"version":1,"sandboxID":"s","namespacePath":"/n","attachments":[{"ifName":"net1","configList":{"cniVersion":"1.0.0","name":"b","type":"x"}}]}"#,
         "attachments[0].network is required"),
        (#"{"version":1,"sandboxID":"s","namespacePath":"/n","attachments":[{"network":"b","ifName":"net1","configList":{"cniVersion":"1.0.0","name":"b","type":"x"},"args":[{"key":"K"}]}]}"#,
         "attachments[0].args[0].value is required"),
        ("{", "the attachment record is not JSON"),
    ])
    func aDamagedRecordNamesTheField(text: String, message: String) throws {
        let error = try #require(throws: VirtError.self) { try AttachmentRecord.decode(Array(text.utf8)) }
        #expect(error.code == .invalid)
        #expect(error.message.replacingOccurrences(of: "the attachment record is invalid: ", with: "").hasPrefix(message), "\(error.message)")
    }

    /// Every byte string decodes or is refused with a `VirtError`; what decodes writes back as a record
    /// that decodes to the same value.
    @Test func fuzzedRecordsDecodeOrAreRefused() throws {
        let seeds = [try Self.sample().json.serialized(), AttachmentRecord(sandboxID: "s", namespacePath: "/n").json.serialized()].map { Array($0.utf8) }
        let tokens: [[UInt8]] = [
            "{", "}", "[", "]", "\"", ":", ",", "null", "true", "1", "-1", "1e999", "9223372036854775808", #""version":1"#, #""version":1.0"#,
            #""sandboxID":"../../etc""#, #""namespacePath":"""#, #""ifName":"eth0eth0eth0eth0""#, #""attachments":{}"#, #""result":null"#,
            #""result":{"cniVersion":"0.2.0","ip4":{}}"#, #""configList":{"cniVersion":"1.0.0","name":"n","plugins":[]}"#,
            #""type":"/bin/sh""#, #""interface":-1"#, #""mtu":1e300"#, #""args":[{"key":"a;b","value":"c"}]"#, "\\u0000", "\\ud800",
            String(repeating: "[", count: 600),
        ].map { Array($0.utf8) } + [[0xFF], [0x00], [0xC0, 0x80]]
        var fuzzer = Fuzzer(seed: 0x5_1F7_C41)
        var decoded = 0
        for round in 0..<4000 {
            let input = round % 10 == 0 ? fuzzer.bytes(maxCount: 256, alphabet: Array(#"{}[]":,0123456789abcdefnulltrue"#.utf8)) : fuzzer.mutate(fuzzer.pick(seeds), tokens: tokens)
            do {
                let record = try AttachmentRecord.decode(input)
                decoded += 1
                let again = try? AttachmentRecord.decode(record.json.serializedBytes())
                #expect(again == record, "\(String(decoding: input, as: UTF8.self))")
            } catch {
                #expect(error.code == .invalid, "\(error)")
            }
        }
        #expect(decoded > 20)  // the mutations also produce readable records, whose round trip is checked
    }
}
