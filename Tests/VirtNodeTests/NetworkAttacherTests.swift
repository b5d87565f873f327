import Foundation
import Testing
import VirtAPI
import VirtError
import VirtNetwork

@testable import VirtNode

/// What the attachers read of a VMI: each interface's binding, pod interface, tap, guest network and
/// ports; what a NetworkAttachmentDefinition's config becomes; how bridge interfaces are wired from the
/// ADD results; and what QEMU's user-mode stack refuses by field.
@Suite struct NetworkAttacherTests {
    func vmi(interfaces: JSONValue, networks: JSONValue) throws -> VirtualMachineInstance {
        let object: JSONValue = [
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": ["name": "vm", "namespace": "default", "uid": "u-1"],
            "spec": ["domain": ["devices": ["interfaces": interfaces]], "networks": networks],
        ]
        return try object.decoded(as: VirtualMachineInstance.self)
    }

    @Test func masqueradeInterfacesTakeTheirGuestNetworkAndPorts() throws {
        let vmi = try vmi(
            interfaces: [["name": "default", "masquerade": [:], "ports": [["port": 80], ["name": "dns", "port": 53, "protocol": "UDP"]]]],
            networks: [["name": "default", "pod": ["vmNetworkCIDR": "10.11.12.0/24"]]])
        let found = try PodNetworkAttacher.bindings(vmi)
        #expect(found.count == 1)
        #expect(found.first?.tap == "tap0")
        #expect(found.first?.podInterface == "eth0")
        #expect(found.first?.guestNetwork.description == "10.11.12.0/24")
        #expect(found.first?.ports == [.init(transport: "tcp", port: 80), .init(transport: "udp", port: 53)])

        let plain = try PodNetworkAttacher.bindings(try self.vmi(interfaces: [["name": "default", "masquerade": [:]]],
                                                                    networks: [["name": "default", "pod": [:]]]))
        #expect(plain.first?.guestNetwork == PodWiring.Masquerade.defaultGuestNetwork)
        #expect(plain.first?.ports == [])
    }

    @Test func bridgeInterfacesSitOnTheirMultusInterfaces() throws {
        let vmi = try vmi(
            interfaces: [["name": "default", "masquerade": [:]], ["name": "blue", "bridge": [:]], ["name": "red", "bridge": [:]]],
            networks: [["name": "default", "pod": [:]], ["name": "blue", "multus": ["networkName": "blue-net"]],
                       ["name": "red", "multus": ["networkName": "other/red-net"]]])
        let found = try PodNetworkAttacher.bindings(vmi)
        #expect(found.map(\.podInterface) == ["eth0", "net1", "net2"])
        #expect(found.map(\.tap) == ["tap0", "tap1", "tap2"])
        #expect(found.map(\.method) == [.masquerade, .bridge, .bridge])

        // A bridge on the pod network takes the pod's eth0; masquerade on a Multus network is refused.
        let podBridge = try PodNetworkAttacher.bindings(try self.vmi(interfaces: [["name": "default", "bridge": [:]]],
                                                                        networks: [["name": "default", "pod": [:]]]))
        #expect(podBridge.map(\.podInterface) == ["eth0"])
        #expect(throws: VirtError.self) {
            try PodNetworkAttacher.bindings(try self.vmi(interfaces: [["name": "m", "masquerade": [:]]],
                                                          networks: [["name": "m", "multus": ["networkName": "x"]]]))
        }
    }

    @Test func aDefinitionsConfigGetsItsNameAndErrorsNameTheDefinition() throws {
        func definition(_ config: String?) -> NetworkAttachmentDefinition {
            NetworkAttachmentDefinition(metadata: ObjectMeta(name: "br1", namespace: "default"), spec: .init(config: config))
        }
        let list = try PodNetworkAttacher.configList(of: definition(#"{"cniVersion": "1.0.0", "type": "bridge", "bridge": "br1"}"#),
                                                     namespace: "default", name: "br1")
        #expect(list.name == "br1")
        #expect(list.plugins.map(\.type) == ["bridge"])

        for (config, words) in [(nil, "has no spec.config"), ("  ", "has no spec.config"), ("{", "is not JSON"),
                                (#"{"cniVersion": "1.0.0", "name": "n"}"#, "type")] as [(String?, String)] {
            #expect {
                try PodNetworkAttacher.configList(of: definition(config), namespace: "default", name: "br1")
            } throws: { error in
                let message = (error as? VirtError)?.message ?? ""
                return message.hasPrefix("NetworkAttachmentDefinition default/br1") && message.contains(words)
            }
        }
    }

    /// A record as the ADDs left it: eth0 on the pod network, net1 on a bridge NAD with a static address,
    /// net2 on a macvlan NAD.
    func record() throws -> AttachmentRecord {
        let path = "/run/ns/s1"
        func list(_ type: String) throws -> CNINetworkConfigList {
            try CNINetworkConfigList.parse(#"{"cniVersion": "1.0.0", "name": "n", "type": "\#(type)"}"#)
        }
        func result(_ name: String, mac: String, address: String, gateway: String?) -> CNIResult {
            CNIResult(interfaces: [.init(name: name, mac: mac, mtu: 1400, sandbox: path)],
                      ips: [.init(address: address, gateway: gateway, interface: 0)])
        }
        var record = AttachmentRecord(sandboxID: "s1", namespacePath: path)
        record.attachments = [
            .init(network: "swiftvirt-pod-network", ifName: "eth0", configList: try list("bridge"),
                  result: result("eth0", mac: "0a:00:00:00:00:01", address: "10.244.0.5/24", gateway: "10.244.0.1")),
            .init(network: "default/br1", ifName: "net1", configList: try list("bridge"),
                  result: result("net1", mac: "0a:00:00:00:00:02", address: "192.168.50.10/24", gateway: nil)),
            .init(network: "default/mv", ifName: "net2", configList: try list("macvlan"),
                  result: result("net2", mac: "0a:00:00:00:00:03", address: "192.168.60.10/24", gateway: "192.168.60.1")),
        ]
        return record
    }

    @Test func bridgeInterfacesTakeThePodInterfacesMACAndAddress() throws {
        let vmi = try vmi(
            interfaces: [["name": "default", "masquerade": [:]], ["name": "blue", "bridge": [:]],
                         ["name": "mv", "bridge": [:], "macAddress": "02:aa:bb:cc:dd:ee"]],
            networks: [["name": "default", "pod": [:]], ["name": "blue", "multus": ["networkName": "br1"]],
                       ["name": "mv", "multus": ["networkName": "mv"]]])
        let record = try record()
        let bindings = try PodNetworkAttacher.bindings(vmi)
        let podMACs = PodNetworkAttacher.podInterfaceMACs(record)
        let wiring = try PodNetworkAttacher.wiring(bindings, record: record, podMACs: podMACs)
        // net1 is bridged and gives the guest its MAC; net2 (macvlan) is mirrored and takes the VMI's MAC.
        #expect(wiring.ipCommands.contains("link add k6t-net1 type bridge"))
        #expect(wiring.ipCommands.contains("link set net2 address 02:aa:bb:cc:dd:ee"))
        #expect(!wiring.ipCommands.contains("link add k6t-net2 type bridge"))
        #expect(wiring.tcCommands.contains { $0.contains("dev net2") && $0.contains("redirect dev tap2") })
        #expect(wiring.guestAddresses["blue"] == .init(device: "k6t-net1", address: IPv4Address("192.168.50.10")!, prefixLength: 24, router: nil,
                                                        server: IPv4Address("169.254.75.10")!, mtu: 1400))
        #expect(wiring.guestAddresses["mv"]?.router == IPv4Address("192.168.60.1"))
        #expect(wiring.guestAddresses["mv"]?.device == "tap2")

        let macs = PodNetworkAttacher.guestMACs(vmi, bindings: bindings, podMACs: podMACs)
        #expect(macs["blue"] == "0a:00:00:00:00:02")
        #expect(macs["mv"] == "02:aa:bb:cc:dd:ee")
        let attachment = PodNetworkAttacher.attachment(bindings: bindings, record: record, wiring: wiring, guestMACs: macs)
        #expect(attachment.podIPs == ["10.244.0.5"])
        #expect(attachment.backends["default"] == .tap(device: "tap0"))
        #expect(attachment.backends["blue"] == .tap(device: "tap1", mac: "0a:00:00:00:00:02"))
        #expect(attachment.interfaces["blue"] == AttachedInterface(podInterfaceName: "net1", mac: "0a:00:00:00:00:02", ipAddresses: ["192.168.50.10"]))

        let status = try JSONValue.parse(Array((attachment.networkStatus ?? "").utf8))
        #expect(status.arrayValue?.map { $0["interface"]?.stringValue } == ["eth0", "net1", "net2"])
        #expect(status.arrayValue?.map { $0["name"]?.stringValue } == ["swiftvirt-pod-network", "default/br1", "default/mv"])
        #expect(status.arrayValue?.first?["default"] == true)
        #expect(status.arrayValue?[1]["ips"] == ["192.168.50.10"])
        #expect(status.arrayValue?[1]["mac"] == "0a:00:00:00:00:02")
    }

    @Test func aResultWithoutMTUTakesTheLinksMTU() throws {
        let vmi = try vmi(interfaces: [["name": "default", "masquerade": [:]], ["name": "blue", "bridge": [:]]],
                          networks: [["name": "default", "pod": [:]], ["name": "blue", "multus": ["networkName": "br1"]]])
        var record = try record()
        record.attachments[1].result = CNIResult(interfaces: [.init(name: "net1", mac: "0a:00:00:00:00:02", sandbox: "/run/ns/s1")],
                                                 ips: [.init(address: "192.168.50.10/24", interface: 0)])
        let links = #"[{"ifname": "lo", "mtu": 65536}, {"ifname": "eth0", "mtu": 1400}, {"ifname": "net1", "mtu": 9000, "address": "0A:00:00:00:00:09"}]"#
        let facts = PodNetworkAttacher.linkFacts(Array(links.utf8))
        #expect(facts.mtus == ["eth0": 1400, "net1": 9000], "loopback's 65536 is no MTU a guest can take")
        #expect(facts.macs == ["net1": "0a:00:00:00:00:09"])
        let mtus = ["net1": 9000]
        let bindings = try PodNetworkAttacher.bindings(vmi)
        let wiring = try PodNetworkAttacher.wiring(bindings, record: record, podMACs: PodNetworkAttacher.podInterfaceMACs(record), podMTUs: mtus)
        #expect(wiring.guestAddresses["blue"]?.mtu == 9000)
        #expect(wiring.ipCommands.contains("link set k6t-net1 mtu 9000"))
        // The result's own MTU wins; neither garbage nor an impossible MTU is taken.
        #expect(wiring.guestAddresses["default"]?.mtu == 1400)
        #expect(PodNetworkAttacher.linkFacts(Array("not json".utf8)).mtus.isEmpty)
        let bad = PodNetworkAttacher.linkFacts(Array(#"[{"ifname": "net1", "mtu": 7, "address": "zz"}, {"ifname": 3}]"#.utf8))
        #expect(bad.mtus.isEmpty && bad.macs.isEmpty)
        let defaulted = try PodNetworkAttacher.wiring(bindings, record: record, podMACs: PodNetworkAttacher.podInterfaceMACs(record))
        #expect(defaulted.guestAddresses["blue"]?.mtu == 1500)
    }

    @Test func userModeNetworkingRefusesWhatNeedsThePodNetworkByField() async throws {
        let plain = try vmi(interfaces: [["name": "default", "masquerade": [:]]], networks: [["name": "default", "pod": [:]]])
        let attachment = try await UserModeNetworking().attach(plain, sandboxID: "s")
        #expect(attachment.backends == ["default": .user])

        let asking = try vmi(interfaces: [["name": "default", "masquerade": [:], "ports": [["port": 22]], "dhcpOptions": ["bootFileName": "x"]]],
                             networks: [["name": "default", "pod": ["vmNetworkCIDR": "10.1.0.0/24"]]])
        await #expect {
            _ = try await UserModeNetworking().attach(asking, sandboxID: "s")
        } throws: { error in
            let message = "\(error)"
            return ["spec.domain.devices.interfaces[0].ports", "spec.domain.devices.interfaces[0].dhcpOptions",
                    "spec.networks[0].pod.vmNetworkCIDR", "--pod-network cni"].allSatisfy { message.contains($0) }
        }
    }
}
