import Foundation
import Testing
import VirtAPI
import VirtError
import VirtNetwork

@testable import VirtNode

/// What the attachers read of a VMI: the masquerade interfaces with their guest network and ports, and
/// what QEMU's user-mode stack refuses by field.
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
            interfaces: [["name": "default", "masquerade": [:], "ports": [["port": 80], ["name": "dns", "port": 53, "protocol": "UDP"]]],
                         ["name": "other", "masquerade": [:]]],
            networks: [["name": "default", "pod": ["vmNetworkCIDR": "10.11.12.0/24"]], ["name": "other", "multus": ["networkName": "x"]]])
        let found = try PodNetworkAttacher.masqueradeInterfaces(vmi)
        #expect(found.count == 1, "only the interface on the pod network")
        #expect(found.first?.tap == "tap0")
        #expect(found.first?.guestNetwork.description == "10.11.12.0/24")
        #expect(found.first?.ports == [.init(transport: "tcp", port: 80), .init(transport: "udp", port: 53)])

        let plain = try PodNetworkAttacher.masqueradeInterfaces(try self.vmi(interfaces: [["name": "default", "masquerade": [:]]],
                                                                                networks: [["name": "default", "pod": [:]]]))
        #expect(plain.first?.guestNetwork == PodWiring.Masquerade.defaultGuestNetwork)
        #expect(plain.first?.ports == [])
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
