import Foundation
import Glibc
import Testing
import VirtOS
import VirtTestSupport
@testable import VirtNetwork

/// The responder against the real busybox udhcpc: two throw-away network namespaces joined by a veth
/// pair, the responder on the "pod" end, udhcpc on the "guest" end.
@Suite struct DHCPResponderTests {
    /// The pod and guest namespaces and their veth ends; `remove()` takes both namespaces away (and the
    /// veth pair with them).
    final class TestLink: Sendable {
        let pod: String
        let guest: String
        let podDevice: String
        let guestDevice: String
        static let guestMAC = "02:5e:00:00:13:02"

        init() {
            let tag = UUID().uuidString.prefix(8).lowercased()
            pod = "svdhcp-\(tag)-pod"
            guest = "svdhcp-\(tag)-guest"
            podDevice = "dp\(tag)"
            guestDevice = "dg\(tag)"
        }

        var podPath: String { "/var/run/netns/\(pod)" }

        func create() async throws {
            try await ip("netns", "add", pod)
            try await ip("netns", "add", guest)
            try await ip("-n", pod, "link", "add", podDevice, "type", "veth", "peer", "name", guestDevice, "netns", guest)
            try await ip("-n", pod, "address", "add", "10.0.2.1/24", "dev", podDevice)
            try await ip("-n", pod, "link", "set", podDevice, "up")
            try await ip("-n", guest, "link", "set", guestDevice, "address", Self.guestMAC)
            try await ip("-n", guest, "link", "set", guestDevice, "up")
        }

        /// What `ip netns delete` does, synchronously so that a `defer` can run it: detach the namespace's
        /// mount and remove its file. Its veth pair goes with the last reference to it.
        func remove() {
            for name in [pod, guest] {
                let path = "/var/run/netns/\(name)"
                umount2(path, Int32(MNT_DETACH))
                unlink(path)
            }
        }

        @discardableResult
        func ip(_ arguments: String...) async throws -> CommandResult {
            try await ProcessRunner().check(try ProcessRunner.lookup("ip"), arguments)
        }

        /// Runs udhcpc on the guest end with a script that prints what it was given on `bound`; the
        /// variables it printed, or `nil` when it got no lease.
        func runClient(in directory: TemporaryDirectory, discoverCount: Int = 4) async throws -> [String: String]? {
            let script = directory.path + "/udhcpc.script"
            let names = ["ip", "subnet", "router", "dns", "mtu", "hostname", "domain", "search", "staticroutes", "broadcast",
                         "serverid", "lease", "tftp", "bootfile", "ntpsrv", "opt224"]
            let body = "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\n" + names.map { "echo \"\($0)=$\($0)\"\n" }.joined()
            try body.write(toFile: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
            let result = try await ProcessRunner().run(
                try ProcessRunner.lookup("ip"),
                ["netns", "exec", guest, "/usr/bin/busybox", "udhcpc", "-i", guestDevice, "-n", "-q", "-f",
                 "-t", String(discoverCount), "-T", "1", "-s", script],
                environment: nil, input: nil)
            guard result.exitCode == 0 else { return nil }
            var values: [String: String] = [:]
            for line in result.stdoutText.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "="), names.contains(String(line[..<equals])) else { continue }
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            return values
        }
    }

    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory(prefix: "dhcp-responder") }

    /// Runs `body` with a fresh link and responder; stops the responder and removes the namespaces on
    /// every way out.
    func withLink(_ body: (TestLink, DHCPResponder) async throws -> Void) async throws {
        let link = TestLink()
        defer { link.remove() }
        try await link.create()
        let responder = DHCPResponder()
        do {
            try await body(link, responder)
        } catch {
            await responder.stopAll()
            throw error
        }
        await responder.stopAll()
    }

    @Test func udhcpcGetsExactlyTheLease() async throws {
        try await withLink { link, responder in
            let mac = try #require(DHCPHardwareAddress(TestLink.guestMAC))
            let handle = try await responder.serve(lease: DHCPTestData.lease, clientMAC: mac, device: link.podDevice, namespacePath: link.podPath)
            #expect(await responder.handles == [handle])
            let got = try #require(try await link.runClient(in: directory), "udhcpc got no lease")
            #expect(got == [
                "ip": "10.0.2.2", "subnet": "255.255.255.0", "router": "10.0.2.1", "dns": "10.96.0.10 192.0.2.53",
                "mtu": "1400", "hostname": "vmi-fedora", "domain": "cluster.local",
                "search": "default.svc.cluster.local cluster.local",
                "staticroutes": "10.1.0.0/16 10.0.2.1 0.0.0.0/0 10.0.2.1", "broadcast": "10.0.2.255",
                "serverid": "10.0.2.1", "lease": "86313600", "tftp": "tftp.example", "bootfile": "pxelinux.0",
                "ntpsrv": "192.0.2.123", "opt224": "68656c6c6f",
            ])
        }
    }

    @Test func servingAgainChangesTheLeaseOnTheRunningSocket() async throws {
        try await withLink { link, responder in
            let mac = try #require(DHCPHardwareAddress(TestLink.guestMAC))
            let first = try await responder.serve(lease: DHCPTestData.lease, clientMAC: mac, device: link.podDevice, namespacePath: link.podPath)
            #expect(try await link.runClient(in: directory)?["ip"] == "10.0.2.2")
            let other = DHCPLease(address: DHCPAddress(10, 0, 2, 77), prefixLength: 24, serverAddress: DHCPAddress(10, 0, 2, 1),
                                  router: DHCPAddress(10, 0, 2, 1))
            let second = try await responder.serve(lease: other, clientMAC: mac, device: link.podDevice, namespacePath: link.podPath)
            #expect(second == first)
            #expect(await responder.lease(for: first) == other)
            let got = try await link.runClient(in: directory)
            #expect(got?["ip"] == "10.0.2.77")
            #expect(got?["hostname"] == "")
            await responder.stop(first)
            #expect(await responder.handles.isEmpty)
        }
    }

    @Test func anotherMACGetsNoLease() async throws {
        try await withLink { link, responder in
            let someoneElse = try #require(DHCPHardwareAddress("02:5e:00:00:13:99"))
            try await responder.serve(lease: DHCPTestData.lease, clientMAC: someoneElse, device: link.podDevice, namespacePath: link.podPath)
            #expect(try await link.runClient(in: directory, discoverCount: 2) == nil)
        }
    }

    @Test func aStoppedResponderNoLongerAnswers() async throws {
        try await withLink { link, responder in
            let mac = try #require(DHCPHardwareAddress(TestLink.guestMAC))
            try await responder.serve(lease: DHCPTestData.lease, clientMAC: mac, device: link.podDevice, namespacePath: link.podPath)
            await responder.stopAll(namespacePath: link.podPath)
            #expect(await responder.handles.isEmpty)
            #expect(try await link.runClient(in: directory, discoverCount: 2) == nil)
        }
    }

    @Test func aMissingNamespaceOrDeviceIsNamed() async throws {
        try await withLink { link, responder in
            let mac = try #require(DHCPHardwareAddress(TestLink.guestMAC))
            let missing = "/var/run/netns/svdhcp-never-made"
            await #expect(throws: DHCPError.namespaceMissing(path: missing)) {
                try await responder.serve(lease: DHCPTestData.lease, clientMAC: mac, device: "eth0", namespacePath: missing)
            }
            await #expect(throws: DHCPError.deviceMissing(device: "k6t-eth0", namespacePath: link.podPath)) {
                try await responder.serve(lease: DHCPTestData.lease, clientMAC: mac, device: "k6t-eth0", namespacePath: link.podPath)
            }
            // The guest's end is in the other namespace: not found in the pod's.
            await #expect(throws: DHCPError.deviceMissing(device: link.guestDevice, namespacePath: link.podPath)) {
                try await responder.serve(lease: DHCPTestData.lease, clientMAC: mac, device: link.guestDevice, namespacePath: link.podPath)
            }
            let notANamespace = directory.path + "/plain-file"
            FileManager.default.createFile(atPath: notANamespace, contents: Data())
            await #expect(throws: DHCPError.namespaceUnusable(path: notANamespace, reason: "it is not a network namespace")) {
                try await responder.serve(lease: DHCPTestData.lease, clientMAC: mac, device: "eth0", namespacePath: notANamespace)
            }
            var invalid = DHCPTestData.lease
            invalid.prefixLength = 40
            await #expect(throws: DHCPError.self) {
                try await responder.serve(lease: invalid, clientMAC: mac, device: link.podDevice, namespacePath: link.podPath)
            }
            #expect(await responder.handles.isEmpty)
            // The agent's own thread is still in the agent's namespace: the test's devices are not here.
            #expect(if_nametoindex(link.podDevice) == 0)
        }
    }
}
