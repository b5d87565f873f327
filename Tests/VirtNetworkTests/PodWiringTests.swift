import Foundation
import Testing
import VirtAPI
import VirtError
import VirtOS
@testable import VirtNetwork

@Suite struct PodWiringTests {
    @Test func masqueradeBridgesTheTapBehindNATAndForwardsTheListedPorts() throws {
        let wiring = try PodWiring.masquerade([
            .init(interfaceName: "default", mtu: 1450, ports: [.init(transport: "tcp", port: 80), .init(transport: "udp", port: 53)]),
        ])
        #expect(wiring.ipCommands == [
            "link add k6t-eth0 type bridge",
            "link set k6t-eth0 address 02:00:00:00:00:00 mtu 1450",
            "addr add 10.0.2.1/24 dev k6t-eth0",
            "tuntap add dev tap0 mode tap",
            "link set tap0 mtu 1450 master k6t-eth0 up",
            "link set k6t-eth0 up",
        ])
        #expect(wiring.sysctls == [.init("net.ipv4.ip_forward", "1"), .init("net.ipv4.conf.k6t-eth0.route_localnet", "1")])
        #expect(wiring.taps == ["default": "tap0"])
        #expect(wiring.guestAddresses["default"] == .init(device: "k6t-eth0", address: IPv4Address("10.0.2.2")!, prefixLength: 24,
                                                           router: IPv4Address("10.0.2.1")!, mtu: 1450))
        #expect(wiring.nftRuleset == """
            table ip nat {
                chain prerouting {
                    type nat hook prerouting priority -100; policy accept;
                    iifname "eth0" jump KUBEVIRT_PREINBOUND
                }
                chain input {
                    type nat hook input priority 100; policy accept;
                }
                chain output {
                    type nat hook output priority -100; policy accept;
                    ip daddr 127.0.0.1 tcp dport 80 dnat to 10.0.2.2
                    ip daddr 127.0.0.1 udp dport 53 dnat to 10.0.2.2
                }
                chain postrouting {
                    type nat hook postrouting priority 100; policy accept;
                    ip saddr 10.0.2.2 oifname "eth0" masquerade
                    oifname "k6t-eth0" jump KUBEVIRT_POSTINBOUND
                }
                chain KUBEVIRT_PREINBOUND {
                    tcp dport 80 dnat to 10.0.2.2
                    udp dport 53 dnat to 10.0.2.2
                }
                chain KUBEVIRT_POSTINBOUND {
                    ip saddr 127.0.0.1 tcp dport 80 snat to 10.0.2.1
                    ip saddr 127.0.0.1 udp dport 53 snat to 10.0.2.1
                }
            }

            """)
    }

    @Test func withoutPortsEveryPortReachesTheGuestOnItsOwnNetwork() throws {
        let wiring = try PodWiring.masquerade([.init(interfaceName: "default", guestNetwork: try IPv4CIDR(parsing: "192.168.7.0/29"))])
        #expect(wiring.ipCommands.contains("addr add 192.168.7.1/29 dev k6t-eth0"))
        #expect(wiring.nftRuleset.contains("        dnat to 192.168.7.2\n"))
        #expect(wiring.nftRuleset.contains("ip daddr 127.0.0.1 dnat to 192.168.7.2"))
        #expect(wiring.nftRuleset.contains("ip saddr 127.0.0.1 snat to 192.168.7.1"))
        #expect(wiring.guestAddresses["default"]?.prefixLength == 29)
    }

    @Test func aGuestNetworkWithNoRoomForTwoHostsIsRefused() throws {
        #expect(throws: VirtError.self) {
            try PodWiring.masquerade([.init(interfaceName: "default", guestNetwork: try IPv4CIDR(parsing: "10.0.2.0/31"))])
        }
        #expect(try PodWiring.masquerade([]) == PodWiring())
    }

    /// The rendered script, sysctls and ruleset are what the real `ip`, `sysctl` and `nft` accept: applied in
    /// a network namespace made for the test, they leave the bridge, the tap and the table there.
    @Test func theKernelTakesTheMasqueradeWiring() async throws {
        let wiring = try PodWiring.masquerade([.init(interfaceName: "default", ports: [.init(transport: "tcp", port: 80)])])
        let namespace = "svtest-wiring-\(UInt32.random(in: 0...UInt32.max))"
        let runner = ProcessRunner()
        _ = try await runner.check("/usr/sbin/ip", ["netns", "add", namespace])
        do {
            _ = try await runner.check("/usr/sbin/ip", ["-n", namespace, "-batch", "-"], input: Array((wiring.ipCommands.joined(separator: "\n") + "\n").utf8))
            for sysctl in wiring.sysctls {
                _ = try await runner.check("/usr/sbin/ip", ["netns", "exec", namespace, "sysctl", "-w", "\(sysctl.key)=\(sysctl.value)"])
            }
            _ = try await runner.check("/usr/sbin/ip", ["netns", "exec", namespace, "nft", "-f", "-"], input: Array(wiring.nftRuleset.utf8))
            let links = try await runner.check("/usr/sbin/ip", ["-n", namespace, "-o", "link", "show", "master", "k6t-eth0"]).stdoutText
            #expect(links.contains("tap0"))
            let table = try await runner.check("/usr/sbin/ip", ["netns", "exec", namespace, "nft", "list", "table", "ip", "nat"]).stdoutText
            #expect(table.contains("tcp dport 80 dnat to 10.0.2.2"))
            let forwarding = try await runner.check("/usr/sbin/ip", ["netns", "exec", namespace, "sysctl", "-n", "net.ipv4.ip_forward"]).stdoutText
            #expect(forwarding.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        } catch {
            _ = try? await runner.run("/usr/sbin/ip", ["netns", "delete", namespace], environment: nil, input: nil)
            throw error
        }
        _ = try await runner.check("/usr/sbin/ip", ["netns", "delete", namespace])
    }

    @Test func aBridgedInterfaceGivesUpItsAddressAndMACToTheGuest() {
        let guest = PodWiring.Bridge.Address(address: IPv4Address("192.168.50.10")!, prefixLength: 24, router: IPv4Address("192.168.50.1"))
        let wiring = PodWiring.bridge([
            .init(interfaceName: "blue", podInterface: "net1", tap: "tap1", mtu: 1400, podInterfaceMAC: "02:11:22:33:44:55", guest: guest),
        ])
        #expect(wiring.ipCommands == [
            "addr flush dev net1",
            "link set net1 down",
            "link set net1 address 02:11:22:33:44:55",
            "tuntap add dev tap1 mode tap",
            "link add k6t-net1 type bridge",
            "link set k6t-net1 mtu 1400",
            "link set net1 master k6t-net1 up",
            "link set tap1 mtu 1400 master k6t-net1 up",
            "link set k6t-net1 up",
            "addr add 169.254.75.10/32 dev k6t-net1",
        ])
        #expect(wiring.tcCommands == [])
        #expect(wiring.nftRuleset == "")
        #expect(wiring.taps == ["blue": "tap1"])
        #expect(wiring.guestAddresses["blue"] == .init(device: "k6t-net1", address: IPv4Address("192.168.50.10")!, prefixLength: 24,
                                                        router: IPv4Address("192.168.50.1"), server: IPv4Address("169.254.75.10")!, mtu: 1400))
    }

    @Test func aMirroredInterfaceKeepsDHCPInThePod() {
        let guest = PodWiring.Bridge.Address(address: IPv4Address("192.168.60.10")!, prefixLength: 24)
        let wiring = PodWiring.bridge([
            .init(interfaceName: "a", podInterface: "net1", tap: "tap1", joint: .bridge),
            .init(interfaceName: "mv", podInterface: "net2", tap: "tap2", joint: .mirror, guest: guest, position: 1),
        ])
        // Without an address the bridge holds none and no DHCP is answered.
        #expect(!wiring.ipCommands.contains { $0.hasPrefix("addr add") && $0.hasSuffix("k6t-net1") })
        #expect(wiring.guestAddresses["a"] == nil)
        #expect(wiring.ipCommands.contains("addr add 169.254.75.11/32 dev tap2"))
        #expect(wiring.tcCommands == [
            "qdisc add dev net2 ingress",
            "filter add dev net2 parent ffff: protocol all prio 2 u32 match u32 0 0 action mirred egress redirect dev tap2",
            "qdisc add dev tap2 ingress",
            "filter add dev tap2 parent ffff: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 67 0xffff flowid ffff:1",
            "filter add dev tap2 parent ffff: protocol all prio 2 u32 match u32 0 0 action mirred egress redirect dev net2",
        ])
        #expect(wiring.guestAddresses["mv"]?.device == "tap2")
    }

    @Test func anIPVLANInterfaceKeepsItsAddressAndMAC() {
        let guest = PodWiring.Bridge.Address(address: IPv4Address("192.168.61.10")!, prefixLength: 24)
        let wiring = PodWiring.bridge([
            .init(interfaceName: "iv", podInterface: "net1", tap: "tap1", joint: .mirrorKeepingAddress, podInterfaceMAC: "02:00:00:00:00:09", guest: guest),
        ])
        #expect(!wiring.ipCommands.contains { $0.hasPrefix("addr flush") || $0.contains(" address ") })
        #expect(wiring.tcCommands.contains("filter add dev net1 parent ffff: protocol all prio 2 u32 match u32 0 0 action mirred egress redirect dev tap1"))
    }

    @Test func theAddressComesFromTheADDResult() {
        let result = CNIResult(interfaces: [.init(name: "net1", sandbox: "/ns")],
                               ips: [.init(address: "fd00::5/64", interface: 0), .init(address: "10.9.0.5/16", interface: 0)],
                               routes: [.init(dst: "0.0.0.0/0", gw: "10.9.0.1")], dns: .init(nameservers: ["10.9.0.2"]))
        let address = PodWiring.Bridge.Address(result: result, podInterface: "net1", sandbox: "/ns")
        #expect(address == .init(address: IPv4Address("10.9.0.5")!, prefixLength: 16, router: IPv4Address("10.9.0.1"),
                                 dnsServers: [IPv4Address("10.9.0.2")!]))
        #expect(PodWiring.Bridge.Address(result: CNIResult(interfaces: [.init(name: "net1", sandbox: "/ns")]), podInterface: "net1", sandbox: "/ns") == nil)
    }
}
