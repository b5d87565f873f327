import Foundation
import Testing
import VirtAPI
import VirtOS

@testable import VirtDisk

/// Seed ISOs built with the real genisoimage / xorrisofs and read back with isoinfo (no loop mounts).
@Suite struct CloudInitDiskTests {
    static let tools: [CloudInitDisk.ISOTool] = [.genisoimage, .xorrisofs]

    static func isoinfo(_ iso: String, _ arguments: String...) async throws -> String {
        try await Tool.run("isoinfo", ["-i", iso] + arguments)
    }

    static func vmi(_ volume: Volume, hostname: String? = nil) -> VirtualMachineInstance {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: "seedvm", namespace: "demo"), spec: VirtualMachineInstanceSpec())
        vmi.spec.hostname = hostname
        vmi.spec.volumes = [volume]
        return vmi
    }

    @Test(arguments: tools)
    func noCloudISO(tool: CloudInitDisk.ISOTool) async throws {
        try await TemporaryDirectory.with { dir in
            let source = CloudInitSource(userData: "#!/bin/sh\necho hello from user-data\n", networkData: "version: 2\nethernets: {}\n")
            var volume = Volume(name: "cloudinit")
            volume.cloudInitNoCloud = source
            let iso = dir.sub("state/disks/cloudinit.iso")
            try await CloudInitDisk(tool: tool).build(for: Self.vmi(volume, hostname: "seed-host"), volumeIndex: 0, at: iso)

            let description = try await Self.isoinfo(iso, "-d")
            #expect(description.contains("Volume id: cidata"))
            #expect(description.contains("Rock Ridge signatures"))
            #expect(description.contains("Joliet"))

            let listing = try await Self.isoinfo(iso, "-R", "-l")
            let names = listing.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            #expect(Set(names).isSuperset(of: ["meta-data", "user-data", "network-config"]))

            let metaData = try await Self.isoinfo(iso, "-R", "-x", "/meta-data")
            #expect(metaData == #"{"instance-id":"\#(CloudInitSeed.firmwareUUID(of: Self.vmi(volume)))","local-hostname":"seed-host"}"#)
            #expect(try await Self.isoinfo(iso, "-R", "-x", "/user-data") == "#!/bin/sh\necho hello from user-data\n")
            #expect(try await Self.isoinfo(iso, "-J", "-x", "/network-config") == "version: 2\nethernets: {}\n")
            // Nothing of the staging area is left next to the ISO.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.sub("state/disks")) == ["cloudinit.iso"])
        }
    }

    @Test(arguments: tools)
    func configDriveISO(tool: CloudInitDisk.ISOTool) async throws {
        try await TemporaryDirectory.with { dir in
            var source = CloudInitSource()
            source.userDataBase64 = "I2Nsb3VkLWNvbmZpZwo="
            source.networkData = #"{"links": [], "networks": [], "services": []}"#
            var volume = Volume(name: "cd")
            volume.cloudInitConfigDrive = source
            let iso = dir.sub("configdrive.iso")
            try await CloudInitDisk(tool: tool).build(for: Self.vmi(volume), volumeIndex: 0, at: iso)

            #expect(try await Self.isoinfo(iso, "-d").contains("Volume id: config-2"))
            let listing = try await Self.isoinfo(iso, "-R", "-l")
            #expect(listing.contains("Directory listing of /openstack/latest/"))
            let metaData = try await Self.isoinfo(iso, "-R", "-x", "/openstack/latest/meta_data.json")
            let json = try JSONValue.parse(metaData)
            #expect(json["instance_id"]?.stringValue == "seedvm.demo")
            #expect(json["hostname"]?.stringValue == "seedvm")
            #expect(json["name"]?.stringValue == "seedvm")
            #expect(json["uuid"]?.stringValue == CloudInitSeed.firmwareUUID(of: Self.vmi(volume)))
            #expect(try await Self.isoinfo(iso, "-R", "-x", "/openstack/latest/user_data") == "#cloud-config\n")
            #expect(
                try await Self.isoinfo(iso, "-J", "-x", "/openstack/latest/network_data.json")
                    == #"{"links": [], "networks": [], "services": []}"#)
        }
    }

    @Test func rebuildingReplacesTheISO() async throws {
        try await TemporaryDirectory.with { dir in
            var volume = Volume(name: "ci")
            volume.cloudInitNoCloud = CloudInitSource(userData: "first\n")
            let iso = dir.sub("seed.iso")
            try await CloudInitDisk().build(for: Self.vmi(volume), volumeIndex: 0, at: iso)
            volume.cloudInitNoCloud = CloudInitSource(userData: "second\n")
            try await CloudInitDisk().build(for: Self.vmi(volume), volumeIndex: 0, at: iso)
            #expect(try await Self.isoinfo(iso, "-R", "-x", "/user-data") == "second\n")
        }
    }

    @Test func commandLines() async throws {
        try await TemporaryDirectory.with { dir in
            // Stands in for the ISO tool: records the call and creates the output it names.
            let runner = RecordingRunner { call in
                if let i = call.arguments.firstIndex(of: "-output") {
                    _ = FileManager.default.createFile(atPath: call.arguments[i + 1], contents: Data())
                }
                return CommandResult(exitCode: 0)
            }
            let seed = CloudInitSeed(dataSource: .noCloud, files: [.init(path: "meta-data", text: "{}"), .init(path: "user-data", text: "")])
            try await CloudInitDisk(tool: .genisoimage, runner: runner).build(seed, at: dir.sub("a.iso"))
            try await CloudInitDisk(tool: .xorrisofs, runner: runner).build(
                CloudInitSeed(dataSource: .configDrive, files: seed.files), at: dir.sub("b.iso"))
            let calls = runner.calls
            try #require(calls.count == 2)
            let staging = calls[0].arguments.last ?? ""
            #expect(staging.hasPrefix(dir.sub(".a.iso.data-")))
            #expect(
                calls[0].description
                    == "genisoimage -quiet -input-charset utf-8 -output \(dir.sub("a.iso")).staging -volid cidata -joliet -rock \(staging)")
            let staging2 = calls[1].arguments.last ?? ""
            #expect(
                calls[1].description
                    == "xorrisofs -output \(dir.sub("b.iso")).staging -volid config-2 -joliet -rock -partition_cyl_align on \(staging2)")
            #expect(FileManager.default.fileExists(atPath: dir.sub("a.iso")))
            #expect(!FileManager.default.fileExists(atPath: staging))
        }
    }
}
