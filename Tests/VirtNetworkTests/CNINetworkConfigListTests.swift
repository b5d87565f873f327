import Foundation
import Testing
import VirtAPI

@testable import VirtNetwork

/// Reading CNI confs and conflists: what is kept, what is refused, and that every refusal names the
/// field to fix.
@Suite struct CNINetworkConfigListTests {
    @Test func aConflistKeepsEveryFieldAndReadsTheOnesTheRuntimeUses() throws {
        let text = """
            {"cniVersion":"1.0.0","name":"swiftvirt-pod-network","disableCheck":false,"x-note":"kept",
             "plugins":[
               {"type":"bridge","bridge":"swiftvirt0","isGateway":true,"ipMasq":true,"hairpinMode":true,
                "capabilities":{"mac":true,"ips":false},
                "ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
               {"type":"firewall","backend":"iptables"}]}
            """
        let list = try CNINetworkConfigList.parse(text)
        #expect(list.cniVersion == "1.0.0")
        #expect(list.name == "swiftvirt-pod-network")
        #expect(!list.disableCheck)
        #expect(list.plugins.map(\.type) == ["bridge", "firewall"])
        #expect(list.plugins[0].capabilities == ["mac"])
        #expect(list.plugins[0].json["hairpinMode"] == true)
        #expect(list.plugins[1].json == ["type": "firewall", "backend": "iptables"])
        #expect(list.json == (try JSONValue.parse(text)))
        #expect(list.json["x-note"] == "kept")
        #expect(try CNINetworkConfigList.parse(list.serialized()) == list)
    }

    @Test func aSingleConfBecomesAOnePluginList() throws {
        let conf = #"{"cniVersion":"0.3.1","name":"macvlan-conf","type":"macvlan","master":"br1","mode":"bridge","ipam":{"type":"static"}}"#
        let list = try CNINetworkConfigList.parse(conf)
        #expect(list.plugins.count == 1)
        #expect(list.plugins[0].type == "macvlan")
        #expect(list.plugins[0].json == (try JSONValue.parse(conf)).objectValue)
        #expect(list.serialized() == #"{"cniVersion":"0.3.1","name":"macvlan-conf","plugins":[{"cniVersion":"0.3.1","ipam":{"type":"static"},"master":"br1","mode":"bridge","name":"macvlan-conf","type":"macvlan"}]}"#)
        // Stored and read back, it is the same list.
        #expect(try CNINetworkConfigList.parse(list.serialized()) == list)
        let coded = try JSONDecoder().decode(CNINetworkConfigList.self, from: JSONEncoder().encode(list))
        #expect(coded == list)
    }

    @Test func theSpecVersionsTheRuntimeSpeaksAreAcceptedAndOthersRefused() throws {
        for version in ["0.3.0", "0.3.1", "0.4.0", "1.0.0"] {
            #expect(try CNINetworkConfigList.parse(#"{"cniVersion":"\#(version)","name":"n","type":"bridge"}"#).cniVersion == version)
        }
        for version in ["0.1.0", "0.2.0", "1.1.0", "2.0.0", ""] {
            #expect(throws: CNIError.unsupportedVersion(version: version, field: "cniVersion", supported: ["0.3.0", "0.3.1", "0.4.0", "1.0.0"])) {
                try CNINetworkConfigList.parse(#"{"cniVersion":"\#(version)","name":"n","type":"bridge"}"#)
            }
        }
        let error = try #require(throws: CNIError.self) { try CNINetworkConfigList.parse(#"{"cniVersion":"0.2.0","name":"n","type":"bridge"}"#) }
        #expect(error.description == #"cniVersion "0.2.0" is not supported: use one of 0.3.0, 0.3.1, 0.4.0, 1.0.0"#)
        #expect(error.code == .invalid)
    }

    @Test func disableCheckIsABooleanOrItsWord() throws {
        for (value, expected) in [("true", true), ("false", false), (#""true""#, true), (#""false""#, false)] {
            #expect(try CNINetworkConfigList.parse(#"{"cniVersion":"1.0.0","name":"n","disableCheck":\#(value),"plugins":[{"type":"bridge"}]}"#).disableCheck == expected)
        }
        #expect(throws: CNIError.invalidConfig(field: "disableCheck", reason: #"must be true or false, not "yes""#)) {
            try CNINetworkConfigList.parse(#"{"cniVersion":"1.0.0","name":"n","disableCheck":"yes","plugins":[{"type":"bridge"}]}"#)
        }
    }

    @Test(arguments: [
        (#"{"name":"n","type":"bridge"}"#, "invalid CNI configuration: cniVersion is required"),
        (#"{"cniVersion":1,"name":"n","type":"bridge"}"#, "invalid CNI configuration: cniVersion must be a string, not number"),
        (#"{"cniVersion":"1.0.0","type":"bridge"}"#, "invalid CNI configuration: name is required"),
        (#"{"cniVersion":"1.0.0","name":"","type":"bridge"}"#, "invalid CNI configuration: name must not be empty"),
        (#"{"cniVersion":"1.0.0","name":"../etc","type":"bridge"}"#,
         #"invalid CNI configuration: name "../etc" must start with a letter or digit and contain only letters, digits, '_', '.' and '-'"#),
        (#"{"cniVersion":"1.0.0","name":"n"}"#,
         #"invalid CNI configuration: type is required (or give a "plugins" list for a configuration list)"#),
        (#"{"cniVersion":"1.0.0","name":"n","type":""}"#, #"invalid CNI configuration: type must not be empty: name the plugin, e.g. "bridge""#),
        (#"{"cniVersion":"1.0.0","name":"n","type":"/usr/bin/evil"}"#,
         #"invalid CNI configuration: type "/usr/bin/evil" must be the name of a plugin (without '/'), not a path"#),
        (#"{"cniVersion":"1.0.0","name":"n","type":".."}"#, #"invalid CNI configuration: type ".." must be the name of a plugin (without '/'), not a path"#),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[]}"#, "invalid CNI configuration: plugins must name at least one plugin"),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":{"type":"bridge"}}"#, "invalid CNI configuration: plugins must be a list, not object"),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"},"firewall"]}"#, "invalid CNI configuration: plugins[1] must be a JSON object, not string"),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"},{"backend":"iptables"}]}"#, "invalid CNI configuration: plugins[1].type is required"),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":{"type":"../host-local"}}]}"#,
         #"invalid CNI configuration: plugins[0].ipam.type "../host-local" must be the name of a plugin (without '/'), not a path"#),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":"host-local"}]}"#,
         "invalid CNI configuration: plugins[0].ipam must be a JSON object, not string"),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","capabilities":{"mac":"yes"}}]}"#,
         "invalid CNI configuration: plugins[0].capabilities.mac must be true or false, not string"),
        (#"["bridge"]"#, "invalid CNI configuration: the document must be a JSON object, not array"),
        (#"{"cniVersion":"1.0.0","#, "invalid CNI configuration: the configuration is not JSON: malformed JSON at byte 22: expected a quoted object key"),
    ])
    func aBrokenConfigurationNamesTheFieldToFix(text: String, message: String) throws {
        let error = try #require(throws: CNIError.self) { try CNINetworkConfigList.parse(text) }
        #expect(error.description.hasPrefix(message), "\(error.description)")
        #expect(error.code == .invalid)
    }
}
