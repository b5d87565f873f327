import Foundation
import Testing
import VirtAPI
import VirtError

@testable import VirtQEMU

/// What the converter refuses: each error names the field and says what to do.
@Suite struct QEMUCommandErrorTests {
    /// Builds `spec`, expects exactly one cause on `field`, and checks the code and the advice.
    func expectRefused(
        _ spec: VirtualMachineInstanceSpec, field: String, code: VirtError.Code, advice: String,
        accelerator: LaunchContext.Accelerator = .tcg, _ adjust: (inout LaunchContext) -> Void = { _ in },
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error = Fixture.error(spec, accelerator: accelerator, adjust) else { return }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.causes.map(\.field) == [field], "\(error)", sourceLocation: sourceLocation)
        #expect(error.causes.first?.message.contains(advice) == true, "\(error.causes)", sourceLocation: sourceLocation)
        #expect(error.message.contains(field), "the message should name the field: \(error.message)", sourceLocation: sourceLocation)
    }

    // MARK: - Unsupported features

    @Test func gpus() throws {
        expectRefused(try Fixture.spec(devices: "{\"gpus\": [{\"name\": \"gpu1\", \"deviceName\": \"nvidia.com/GP102GL\"}]}"),
            field: "spec.domain.devices.gpus", code: .unsupported, advice: "remove gpus")
    }

    @Test func hostDevices() throws {
        expectRefused(try Fixture.spec(devices: "{\"hostDevices\": [{\"name\": \"nic\", \"deviceName\": \"intel.com/x710\"}]}"),
            field: "spec.domain.devices.hostDevices", code: .unsupported, advice: "remove hostDevices")
    }

    @Test func emptyDeviceListsAreFine() throws {
        _ = try Fixture.arguments(try Fixture.spec(devices: "{\"gpus\": [], \"hostDevices\": []}"))
    }

    @Test func hugepages() throws {
        let spec = try Fixture.spec("{\"domain\": {\"memory\": {\"guest\": \"1Gi\", \"hugepages\": {\"pageSize\": \"2Mi\"}}, \"devices\": {}}}")
        expectRefused(spec, field: "spec.domain.memory.hugepages", code: .unsupported, advice: "remove hugepages")
    }

    @Test func dedicatedCPUPlacement() throws {
        expectRefused(try Fixture.spec(domain: "\"cpu\": {\"cores\": 2, \"dedicatedCpuPlacement\": true}"),
            field: "spec.domain.cpu.dedicatedCpuPlacement", code: .unsupported, advice: "remove dedicatedCpuPlacement")
    }

    @Test func sriovBinding() throws {
        let spec = try Fixture.spec(
            devices: "{\"interfaces\": [{\"name\": \"vf\", \"sriov\": {}}]}",
            spec: "\"networks\": [{\"name\": \"vf\", \"multus\": {\"networkName\": \"sriov-net\"}}]")
        expectRefused(spec, field: "spec.domain.devices.interfaces[0].sriov", code: .unsupported, advice: "use bridge: {} or masquerade: {}")
    }

    @Test func bindingPlugin() throws {
        let spec = try Fixture.spec(
            devices: "{\"interfaces\": [{\"name\": \"p\", \"binding\": {\"name\": \"passt\"}}]}",
            spec: "\"networks\": [{\"name\": \"p\", \"pod\": {}}]")
        expectRefused(spec, field: "spec.domain.devices.interfaces[0].binding", code: .unsupported, advice: "\"passt\"")
    }

    @Test func efiWithoutOVMF() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"bootloader\": {\"efi\": {\"secureBoot\": false}}}")
        expectRefused(spec, field: "spec.domain.firmware.bootloader.efi", code: .unsupported, advice: "install the ovmf package")
    }

    @Test func efiSecureBootWithoutASecureBootOVMF() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"bootloader\": {\"efi\": {}}}")
        expectRefused(spec, field: "spec.domain.firmware.bootloader.efi.secureBoot", code: .unsupported, advice: "set secureBoot: false") {
            $0.efi = LaunchContext.EFIFirmware(codePath: "/fw/CODE.fd", varsPath: "/pod/VARS.fd", secureBoot: false)
        }
    }

    @Test func efiSecureBootWithSMMOff() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"bootloader\": {\"efi\": {}}}, \"features\": {\"smm\": {\"enabled\": false}}")
        expectRefused(spec, field: "spec.domain.features.smm.enabled", code: .invalid, advice: "enable smm") {
            $0.efi = LaunchContext.EFIFirmware(codePath: "/fw/CODE.fd", varsPath: "/pod/VARS.fd", secureBoot: true)
        }
    }

    @Test func lun() throws {
        expectRefused(try Fixture.spec(devices: "{\"disks\": [{\"name\": \"l\", \"lun\": {}}]}"),
            field: "spec.domain.devices.disks[0].lun", code: .unsupported, advice: "disk: {bus: scsi}")
    }

    @Test func memoryHotplug() throws {
        let spec = try Fixture.spec("{\"domain\": {\"memory\": {\"guest\": \"1Gi\", \"maxGuest\": \"4Gi\"}, \"devices\": {}}}")
        expectRefused(spec, field: "spec.domain.memory.maxGuest", code: .unsupported, advice: "remove maxGuest")
    }

    @Test func machineTypeOfAnotherArchitecture() throws {
        expectRefused(try Fixture.spec(domain: "\"machine\": {\"type\": \"virt\"}"),
            field: "spec.domain.machine.type", code: .unsupported, advice: "supported values: \"q35\"")
    }

    @Test func readonlySATADisk() throws {
        expectRefused(try Fixture.spec(devices: "{\"disks\": [{\"name\": \"d\", \"disk\": {\"bus\": \"sata\", \"readonly\": true}}]}"),
            field: "spec.domain.devices.disks[0].disk.readonly", code: .unsupported, advice: "use bus virtio or scsi")
    }

    @Test func unknownFeature() throws {
        expectRefused(try Fixture.spec(domain: "\"features\": {\"vmport\": {}}"),
            field: "spec.domain.features.vmport", code: .unsupported, advice: "remove it")
    }

    @Test func clockTimezone() throws {
        expectRefused(try Fixture.spec(domain: "\"clock\": {\"timezone\": \"Europe/Berlin\"}"),
            field: "spec.domain.clock.timezone", code: .unsupported, advice: "use utc: {}")
    }

    @Test func tpm() throws {
        expectRefused(try Fixture.spec(devices: "{\"tpm\": {}}"), field: "spec.domain.devices.tpm", code: .unsupported, advice: "remove tpm")
    }

    // MARK: - Invalid combinations

    @Test func noMemory() throws {
        let spec = try Fixture.spec("{\"domain\": {\"devices\": {}}}")
        expectRefused(spec, field: "spec.domain.memory.guest", code: .invalid, advice: "spec.domain.resources.requests.memory")
        #expect(Fixture.error(spec)?.causes.first?.reason == "FieldValueRequired")
    }

    @Test func cdromOnVirtio() throws {
        expectRefused(try Fixture.spec(devices: "{\"disks\": [{\"name\": \"c\", \"cdrom\": {\"bus\": \"virtio\"}}]}"),
            field: "spec.domain.devices.disks[0].cdrom.bus", code: .invalid, advice: "bus sata or scsi")
    }

    @Test func cacheNoneWithoutDirectIO() throws {
        expectRefused(try Fixture.spec(devices: "{\"disks\": [{\"name\": \"d\", \"cache\": \"none\"}]}"),
            field: "spec.domain.devices.disks[0].cache", code: .invalid, advice: "use writethrough or writeback") {
            $0.disks["d"]?.directIO = false
        }
    }

    @Test func nativeIOWithoutDirectIO() throws {
        expectRefused(try Fixture.spec(devices: "{\"disks\": [{\"name\": \"d\", \"cache\": \"writeback\", \"io\": \"native\"}]}"),
            field: "spec.domain.devices.disks[0].io", code: .invalid, advice: "set cache: none")
    }

    @Test func tooManySATADisks() throws {
        let disks = (0..<7).map { "{\"name\": \"d\($0)\", \"disk\": {\"bus\": \"sata\"}}" }.joined(separator: ", ")
        expectRefused(try Fixture.spec(devices: "{\"disks\": [\(disks)]}"),
            field: "spec.domain.devices.disks[6].disk.bus", code: .invalid, advice: "has 6 ports")
    }

    @Test func firmwareUUIDNotAUUID() throws {
        expectRefused(try Fixture.spec(domain: "\"firmware\": {\"uuid\": \"my-vm\"}"),
            field: "spec.domain.firmware.uuid", code: .invalid, advice: "must be a UUID")
    }

    @Test func multicastMAC() throws {
        let spec = try Fixture.spec(
            devices: "{\"interfaces\": [{\"name\": \"n\", \"bridge\": {}, \"macAddress\": \"01:00:5e:00:00:01\"}]}",
            spec: "\"networks\": [{\"name\": \"n\", \"pod\": {}}]")
        expectRefused(spec, field: "spec.domain.devices.interfaces[0].macAddress", code: .invalid, advice: "multicast")
    }

    @Test func useSerialWithoutSerialConsole() throws {
        let spec = try Fixture.spec(
            devices: "{\"autoattachSerialConsole\": false}", domain: "\"firmware\": {\"bootloader\": {\"bios\": {\"useSerial\": true}}}")
        expectRefused(spec, field: "spec.domain.firmware.bootloader.bios.useSerial", code: .invalid, advice: "autoattachSerialConsole") {
            $0.serialSocketPath = nil
        }
    }

    @Test func kernelBootWithoutKernel() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"kernelBoot\": {\"container\": {\"image\": \"k\", \"initrdPath\": \"/boot/initrd\"}}}")
        expectRefused(spec, field: "spec.domain.firmware.kernelBoot.container.kernelPath", code: .invalid, advice: "set kernelPath")
    }

    @Test func maxSocketsBelowSockets() throws {
        expectRefused(try Fixture.spec(domain: "\"cpu\": {\"sockets\": 4, \"maxSockets\": 2}"),
            field: "spec.domain.cpu.maxSockets", code: .invalid, advice: "greater than or equal to sockets")
    }

    @Test func everyProblemAtOnce() throws {
        let spec = try Fixture.spec(
            "{\"domain\": {\"memory\": {\"hugepages\": {\"pageSize\": \"2Mi\"}}, \"devices\": {\"gpus\": [{\"name\": \"g\"}]}}}")
        guard let error = Fixture.error(spec) else { return }
        #expect(error.code == .invalid)
        #expect(Set(error.causes.map(\.field)) == ["spec.domain.memory.hugepages", "spec.domain.memory.guest", "spec.domain.devices.gpus"])
    }

    // MARK: - Context the agent did not prepare

    @Test func diskWithoutPreparedImage() throws {
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"rootdisk\"}]}")
        let error = Fixture.error(spec) { $0.disks = [:] }
        #expect(error?.code == .internal)
        #expect(error?.message.contains("\"rootdisk\"") == true)
    }

    @Test func missingSockets() throws {
        #expect(Fixture.error(try Fixture.spec()) { $0.serialSocketPath = nil }?.message.contains("serialSocketPath") == true)
        #expect(Fixture.error(try Fixture.spec()) { $0.vncSocketPath = nil }?.message.contains("vncSocketPath") == true)
    }

    @Test func missingKernel() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"kernelBoot\": {\"container\": {\"image\": \"k\", \"kernelPath\": \"/boot/vmlinuz\"}}}")
        let error = Fixture.error(spec) { $0.kernelPath = nil }
        #expect(error?.code == .internal)
        #expect(error?.message.contains("kernelPath") == true)
    }

    @Test func vmiUIDNotAUUID() throws {
        let error = Fixture.error(try Fixture.spec()) { $0.vmiUID = "" }
        #expect(error?.code == .internal)
        #expect(error?.message.contains("metadata.uid") == true)
    }
}
