import Foundation
import Testing
import VirtAPI
import VirtError

@testable import VirtQEMU

/// One rule of the converter per test; the golden files show whole command lines.
@Suite struct QEMUCommandTests {
    // MARK: - Process-level options

    @Test func baselineOptions() throws {
        let command = try QEMUCommand.build(spec: try Fixture.spec(), context: Fixture.context(for: try Fixture.spec()))
        #expect(command.executable == "qemu-system-x86_64")
        let args = command.arguments
        for flag in ["-nodefaults", "-no-user-config"] { #expect(args.contains(flag)) }
        #expect(args.value(of: "-display") == "none")
        #expect(args.value(of: "-chardev") == "socket,id=qmp,path=/pod/qmp.sock,server=on,wait=off")
        #expect(args.value(of: "-mon") == "chardev=qmp,mode=control")
        #expect(args.value(of: "-uuid") == Fixture.uid)
        #expect(args.value(of: "-boot") == "strict=on")
        #expect(!args.contains("-S"))
        #expect(!args.contains("-incoming"))
        #expect(!args.contains("-name"))
    }

    @Test func startPausedAndIncoming() throws {
        let spec = try Fixture.spec()
        #expect(try Fixture.arguments(spec) { $0.startPaused = true }.last == "-S")
        let incoming = try Fixture.arguments(spec) { $0.incoming = true }
        #expect(incoming.value(of: "-incoming") == "defer")
        #expect(!incoming.contains("-S"))
    }

    @Test func guestNameFromMetadata() throws {
        var meta = ObjectMeta(name: "vm1", namespace: "team-a")
        meta.uid = Fixture.uid
        let vmi = VirtualMachineInstance(metadata: meta, spec: try Fixture.spec())
        let command = try QEMUCommand.build(vmi: vmi, context: Fixture.context(for: vmi.spec))
        #expect(command.arguments.value(of: "-name") == "guest=team-a_vm1,debug-threads=on")
    }

    @Test func executableComesFromTheContext() throws {
        let spec = try Fixture.spec()
        var context = Fixture.context(for: spec)
        context.executable = "/usr/libexec/qemu-kvm"
        #expect(try QEMUCommand.build(spec: spec, context: context).executable == "/usr/libexec/qemu-kvm")
    }

    // MARK: - Machine, accelerator, CPU, memory

    @Test(arguments: [
        (nil, "q35"), ("q35", "q35"), ("pc-q35-7.2", "pc-q35-7.2"), ("pc-q35-rhel9.4.0", "q35"),
        ("pc", "pc"), ("pc-i440fx-7.2", "pc-i440fx-7.2"), ("pc-i440fx-rhel7.6.0", "pc"),
    ] as [(String?, String)])
    func machineType(requested: String?, expected: String) throws {
        let machine = requested.map { ", \"machine\": {\"type\": \"\($0)\"}" } ?? ""
        let spec = try Fixture.spec("{\"domain\": {\"memory\": {\"guest\": \"64Mi\"}, \"devices\": {}\(machine)}}")
        #expect(try Fixture.arguments(spec).value(of: "-machine") == expected)
    }

    @Test(arguments: [LaunchContext.Accelerator.kvm, .tcg])
    func accelerator(_ accelerator: LaunchContext.Accelerator) throws {
        #expect(try Fixture.arguments(try Fixture.spec(), accelerator: accelerator).value(of: "-accel") == accelerator.rawValue)
    }

    @Test(arguments: [
        (nil, LaunchContext.Accelerator.kvm, "host"), (nil, .tcg, "max"),
        ("host-model", .kvm, "host"), ("host-model", .tcg, "max"),
        ("host-passthrough", .kvm, "host"), ("host-passthrough", .tcg, "max"),
        ("Haswell-noTSX", .kvm, "Haswell-noTSX"), ("qemu64", .tcg, "qemu64"),
    ] as [(String?, LaunchContext.Accelerator, String)])
    func cpuModel(model: String?, accelerator: LaunchContext.Accelerator, expected: String) throws {
        let cpu = model.map { ", \"cpu\": {\"model\": \"\($0)\"}" } ?? ""
        let spec = try Fixture.spec("{\"domain\": {\"memory\": {\"guest\": \"64Mi\"}, \"devices\": {}\(cpu)}}")
        #expect(try Fixture.arguments(spec, accelerator: accelerator).value(of: "-cpu") == expected)
    }

    @Test func cpuFeaturePolicies() throws {
        let spec = try Fixture.spec(domain: """
            "cpu": {"features": [{"name": "pcid"}, {"name": "vmx", "policy": "forbid"}, {"name": "avx2", "policy": "optional"},
                                 {"name": "svm", "policy": "disable"}, {"name": "x2apic", "policy": "force"}]}
            """)
        #expect(try Fixture.arguments(spec).value(of: "-cpu") == "max,pcid=on,vmx=off,avx2=on,svm=off,x2apic=on")
    }

    @Test(arguments: [
        ("{}", "cpus=1,sockets=1,cores=1,threads=1"),
        ("{\"cpu\": {\"cores\": 4}}", "cpus=4,sockets=1,cores=4,threads=1"),
        ("{\"cpu\": {\"sockets\": 2, \"cores\": 2, \"threads\": 2}}", "cpus=8,sockets=2,cores=2,threads=2"),
        ("{\"cpu\": {\"threads\": 2}}", "cpus=2,sockets=1,cores=1,threads=2"),
        ("{\"cpu\": {\"sockets\": 1, \"cores\": 2, \"maxSockets\": 3}}", "cpus=2,maxcpus=6,sockets=3,cores=2,threads=1"),
        ("{\"resources\": {\"limits\": {\"cpu\": \"2\"}, \"requests\": {\"cpu\": \"1\"}}}", "cpus=2,sockets=2,cores=1,threads=1"),
        ("{\"resources\": {\"requests\": {\"cpu\": \"1500m\"}}}", "cpus=2,sockets=2,cores=1,threads=1"),
        ("{\"resources\": {\"requests\": {\"cpu\": \"100m\"}}}", "cpus=1,sockets=1,cores=1,threads=1"),
        ("{\"cpu\": {\"cores\": 3}, \"resources\": {\"requests\": {\"cpu\": \"8\"}}}", "cpus=3,sockets=1,cores=3,threads=1"),
    ])
    func topology(domain: String, expected: String) throws {
        var members = String(domain.dropFirst().dropLast())
        if !members.isEmpty { members += ", " }
        let spec = try Fixture.spec("{\"domain\": {\(members)\"memory\": {\"guest\": \"64Mi\"}, \"devices\": {}}}")
        #expect(try Fixture.arguments(spec).value(of: "-smp") == expected)
    }

    @Test(arguments: [
        ("\"memory\": {\"guest\": \"64Mi\"}", "64M"),
        ("\"memory\": {\"guest\": \"1.5Gi\"}", "1536M"),
        ("\"memory\": {\"guest\": \"100M\"}", "96M"),
        ("\"memory\": {\"guest\": \"1Mi\"}", "1M"),
        ("\"memory\": {\"guest\": \"512Mi\"}, \"resources\": {\"requests\": {\"memory\": \"1Gi\"}}", "512M"),
        ("\"resources\": {\"requests\": {\"memory\": \"2Gi\"}}", "2048M"),
        ("\"resources\": {\"limits\": {\"memory\": \"300Mi\"}}", "300M"),
        ("\"resources\": {\"requests\": {\"memory\": \"256Mi\"}, \"limits\": {\"memory\": \"1Gi\"}}", "256M"),
    ])
    func memory(domain: String, expected: String) throws {
        let spec = try Fixture.spec("{\"domain\": {\(domain), \"devices\": {}}}")
        #expect(try Fixture.arguments(spec).value(of: "-m") == expected)
    }

    @Test func maxGuestEqualToGuestIsFine() throws {
        let spec = try Fixture.spec("{\"domain\": {\"memory\": {\"guest\": \"1Gi\", \"maxGuest\": \"1024Mi\"}, \"devices\": {}}}")
        #expect(try Fixture.arguments(spec).value(of: "-m") == "1024M")
    }

    // MARK: - Features and clock

    @Test func featuresOnTheMachine() throws {
        let spec = try Fixture.spec(domain: """
            "features": {"acpi": {"enabled": false}, "smm": {"enabled": false}},
            "clock": {"timer": {"hpet": {"present": false}, "rtc": {"tickPolicy": "catchup", "track": "guest"}}}
            """)
        let args = try Fixture.arguments(spec)
        #expect(args.value(of: "-machine") == "q35,acpi=off,smm=off,hpet=off")
        #expect(args.value(of: "-rtc") == "base=utc,driftfix=slew,clock=vm")
    }

    @Test func hypervEnlightenmentsAndTheirDependencies() throws {
        let spec = try Fixture.spec(domain: "\"features\": {\"hyperv\": {\"synictimer\": {}, \"evmcs\": {}}}")
        #expect(try Fixture.arguments(spec, accelerator: .kvm).value(of: "-cpu")
            == "host,hv-time=on,hv-vapic=on,hv-vpindex=on,hv-synic=on,hv-stimer=on,hv-evmcs=on")
    }

    @Test func hypervIsLeftOutUnderTCG() throws {
        let spec = try Fixture.spec(domain: """
            "features": {"hyperv": {"relaxed": {}, "vpindex": {}}, "kvm": {"hidden": true}, "pvspinlock": {"enabled": false}},
            "clock": {"timer": {"hyperv": {}, "pit": {"tickPolicy": "delay"}}}
            """)
        let tcg = try Fixture.arguments(spec, accelerator: .tcg)
        #expect(tcg.value(of: "-cpu") == "max,kvm=off")
        #expect(tcg.value(of: "-global") == nil)
        let kvm = try Fixture.arguments(spec, accelerator: .kvm)
        #expect(kvm.value(of: "-cpu") == "host,hv-relaxed=on,hv-vpindex=on,kvm=off,kvm-pv-unhalt=off,hv-time=on")
        #expect(kvm.value(of: "-global") == "kvm-pit.lost_tick_policy=delay")
    }

    @Test func rebootPolicyTerminate() throws {
        let spec = try Fixture.spec(domain: "\"rebootPolicy\": \"Terminate\"")
        #expect(try Fixture.arguments(spec).value(of: "-action") == "reboot=shutdown")
    }

    // MARK: - Firmware

    @Test func uuidFromFirmwareElseFromTheVMI() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"uuid\": \"5D307CA9-B3EF-428C-8861-06E72D69F223\", \"serial\": \"a,b\"}")
        let args = try Fixture.arguments(spec)
        #expect(args.value(of: "-uuid") == "5d307ca9-b3ef-428c-8861-06e72d69f223")
        #expect(args.value(of: "-smbios") == "type=1,manufacturer=KubeVirt,product=None,family=KubeVirt,serial=a,,b")
        #expect(try Fixture.arguments(try Fixture.spec()).value(of: "-uuid") == Fixture.uid)
    }

    @Test func biosUseSerialTurnsGraphicsOffForTheFirmware() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"bootloader\": {\"bios\": {\"useSerial\": true}}}")
        #expect(try Fixture.arguments(spec).value(of: "-machine") == "q35,graphics=off")
        let plain = try Fixture.spec(domain: "\"firmware\": {\"bootloader\": {\"bios\": {}}}")
        #expect(try Fixture.arguments(plain).value(of: "-machine") == "q35")
    }

    @Test func kernelBoot() throws {
        let spec = try Fixture.spec(domain: """
            "firmware": {"kernelBoot": {"kernelArgs": "console=ttyS0 root=/dev/vda quiet", "container": {"image": "k", "kernelPath": "/boot/vmlinuz", "initrdPath": "/boot/initrd"}}}
            """)
        let args = try Fixture.arguments(spec)
        #expect(args.value(of: "-kernel") == "/pod/kernel")
        #expect(args.value(of: "-initrd") == "/pod/initrd")
        #expect(args.value(of: "-append") == "console=ttyS0 root=/dev/vda quiet")
    }

    @Test func kernelBootWithoutInitrdOrArguments() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"kernelBoot\": {\"container\": {\"image\": \"k\", \"kernelPath\": \"/boot/vmlinuz\"}}}")
        let args = try Fixture.arguments(spec)
        #expect(args.value(of: "-kernel") == "/pod/kernel")
        #expect(!args.contains("-initrd"))
        #expect(!args.contains("-append"))
    }

    @Test func efiWithoutSecureBoot() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"bootloader\": {\"efi\": {\"secureBoot\": false}}}")
        let args = try Fixture.arguments(spec) {
            $0.efi = LaunchContext.EFIFirmware(codePath: "/fw/CODE.fd", varsPath: "/pod/VARS.fd", secureBoot: false)
        }
        #expect(args.value(of: "-machine") == "q35,pflash0=pflash0,pflash1=pflash1")
        #expect(args.values(of: "-blockdev") == [
            "driver=file,filename=/fw/CODE.fd,node-name=pflash0-storage,read-only=on",
            "driver=raw,file=pflash0-storage,node-name=pflash0,read-only=on",
            "driver=file,filename=/pod/VARS.fd,node-name=pflash1-storage,read-only=off",
            "driver=raw,file=pflash1-storage,node-name=pflash1,read-only=off",
        ])
        #expect(args.value(of: "-global") == nil)
    }

    @Test func efiSecureBootIsTheDefault() throws {
        let spec = try Fixture.spec(domain: "\"firmware\": {\"bootloader\": {\"efi\": {}}}")
        let args = try Fixture.arguments(spec) {
            $0.efi = LaunchContext.EFIFirmware(codePath: "/fw/CODE.secboot.fd", varsPath: "/pod/VARS.fd", secureBoot: true)
        }
        #expect(args.value(of: "-machine") == "q35,smm=on,pflash0=pflash0,pflash1=pflash1")
        #expect(args.value(of: "-global") == "driver=cfi.pflash01,property=secure,value=on")
    }

    // MARK: - Disks

    @Test func diskWithoutTargetIsAVirtioDisk() throws {
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"root\"}]}")
        let args = try Fixture.arguments(spec)
        #expect(args.values(of: "-blockdev") == [
            "driver=file,filename=/pod/disks/root.qcow2,node-name=root-file,read-only=off,cache.direct=off,cache.no-flush=off,discard=unmap",
            "driver=qcow2,file=root-file,node-name=root-fmt,read-only=off,cache.direct=off,cache.no-flush=off,discard=unmap",
        ])
        #expect(args.values(of: "-device").first == "virtio-blk-pci,drive=root-fmt,id=ua-root,write-cache=off,werror=stop,rerror=stop")
    }

    @Test(arguments: [
        // (cache, directIO, cache.direct, write-cache)
        (nil, nil, "off", "off"), (nil, false, "off", "off"), (nil, true, "on", "on"),
        ("none", nil, "on", "on"), ("none", true, "on", "on"),
        ("writethrough", true, "off", "off"), ("writeback", nil, "off", "on"),
    ] as [(String?, Bool?, String, String)])
    func cacheModes(cache: String?, directIO: Bool?, direct: String, writeCache: String) throws {
        let cacheField = cache.map { ", \"cache\": \"\($0)\"" } ?? ""
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"d\", \"disk\": {}\(cacheField)}]}")
        let args = try Fixture.arguments(spec) { $0.disks["d"]?.directIO = directIO }
        for node in args.values(of: "-blockdev") { #expect(node.contains("cache.direct=\(direct),cache.no-flush=off")) }
        #expect(args.values(of: "-device").first?.contains("write-cache=\(writeCache)") == true)
    }

    @Test func readonlyFromTheSpecOrTheContext() throws {
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"a\", \"disk\": {\"readonly\": true}}, {\"name\": \"b\"}]}")
        let args = try Fixture.arguments(spec) { $0.disks["b"]?.readonly = true }
        let nodes = args.values(of: "-blockdev")
        #expect(nodes.count == 4)
        for node in nodes {
            #expect(node.contains("read-only=on"))
            #expect(!node.contains("discard"))
        }
    }

    @Test func bootOrderSerialAndErrorPolicy() throws {
        let spec = try Fixture.spec(devices: """
            {"disks": [{"name": "root", "bootOrder": 3, "serial": "SN-1", "errorPolicy": "enospace", "shareable": true}]}
            """)
        #expect(try Fixture.arguments(spec).values(of: "-device").first
            == "virtio-blk-pci,drive=root-fmt,id=ua-root,serial=SN-1,bootindex=3,write-cache=off,werror=enospc,rerror=report,share-rw=on")
    }

    @Test func sataDisksTakeTheQ35PortsInOrder() throws {
        let spec = try Fixture.spec(devices: """
            {"disks": [{"name": "a", "disk": {"bus": "sata"}}, {"name": "cd", "cdrom": {}}, {"name": "b", "disk": {"bus": "sata"}}]}
            """)
        let devices = try Fixture.arguments(spec).values(of: "-device").filter { $0.hasPrefix("ide-") }
        #expect(devices.map { $0.split(separator: ",").prefix(2).joined(separator: ",") } == ["ide-hd,bus=ide.0", "ide-cd,bus=ide.1", "ide-hd,bus=ide.2"])
    }

    @Test func sataOnI440FXAddsAnAHCIController() throws {
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"a\", \"disk\": {\"bus\": \"sata\"}}]}", domain: "\"machine\": {\"type\": \"pc\"}")
        let devices = try Fixture.arguments(spec).values(of: "-device")
        #expect(devices.first == "ich9-ahci,id=sata0")
        #expect(devices.contains { $0.hasPrefix("ide-hd,bus=sata0.0,") })
    }

    @Test func scsiDisksShareOneController() throws {
        let spec = try Fixture.spec(devices: """
            {"disks": [{"name": "a", "disk": {"bus": "scsi"}}, {"name": "b", "cdrom": {"bus": "scsi"}}]}
            """)
        let devices = try Fixture.arguments(spec).values(of: "-device")
        #expect(devices.filter { $0.hasPrefix("virtio-scsi-pci") } == ["virtio-scsi-pci,id=scsi0"])
        #expect(devices.contains { $0.hasPrefix("scsi-hd,bus=scsi0.0,channel=0,scsi-id=0,lun=0,drive=a-fmt,") })
        #expect(devices.contains { $0.hasPrefix("scsi-cd,bus=scsi0.0,channel=0,scsi-id=0,lun=1,drive=b-fmt,") })
    }

    @Test func cdromIsReadOnlyOnSATAByDefault() throws {
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"iso\", \"cdrom\": {}}]}")
        let args = try Fixture.arguments(spec)
        #expect(args.values(of: "-blockdev").allSatisfy { $0.contains("read-only=on") })
        #expect(args.values(of: "-device").first?.hasPrefix("ide-cd,bus=ide.0,drive=iso-fmt,id=ua-iso") == true)
    }

    @Test func ioThreads() throws {
        let spec = try Fixture.spec(devices: """
            {"disks": [{"name": "a"}, {"name": "b", "dedicatedIOThread": true}, {"name": "c", "disk": {"bus": "sata"}}]}
            """)
        let args = try Fixture.arguments(spec)
        #expect(args.values(of: "-object") == ["iothread,id=iothread-shared", "iothread,id=iothread-b"])
        let devices = args.values(of: "-device")
        #expect(devices.contains { $0.hasPrefix("virtio-blk-pci,drive=a-fmt,id=ua-a,iothread=iothread-shared,") })
        #expect(devices.contains { $0.hasPrefix("virtio-blk-pci,drive=b-fmt,id=ua-b,iothread=iothread-b,") })
        #expect(devices.contains { $0.hasPrefix("ide-hd,") && !$0.contains("iothread") })
    }

    @Test func pathsWithCommasAreEscaped() throws {
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"d\"}]}")
        let args = try Fixture.arguments(spec) {
            $0.disks["d"]?.path = "/srv/a,b.img"
            $0.qmpSocketPath = "/run/x,y/qmp.sock"
        }
        #expect(args.values(of: "-blockdev").first?.contains("filename=/srv/a,,b.img,") == true)
        #expect(args.value(of: "-chardev") == "socket,id=qmp,path=/run/x,,y/qmp.sock,server=on,wait=off")
    }

    // MARK: - Names

    @Test func nodeNamesFromDiskNames() {
        #expect(QEMUNames.base("rootdisk") == "rootdisk")
        #expect(QEMUNames.base("cloud-init_1") == "cloud-init_1")
        let dotted = QEMUNames.base("data.volume")
        #expect(dotted == "data_volume_" + dotted.suffix(8) && dotted.count == 20)
        #expect(QEMUNames.base("data_volume") != dotted)
        #expect(QEMUNames.base("1disk").hasPrefix("d1disk_"))
        let long = QEMUNames.base(String(repeating: "a", count: 63))
        #expect(long.count == QEMUNames.maxBaseLength)
        #expect(long != QEMUNames.base(String(repeating: "a", count: 62)))
        for name in ["x", String(repeating: "b", count: 63), "a.b.c", "9"] {
            #expect(QEMUNames.formatNode(name).count <= 31)
            #expect(QEMUNames.fileNode(name).count <= 31)
        }
    }

    @Test func optionEscaping() {
        #expect(QEMUOptionList.escape("plain") == "plain")
        #expect(QEMUOptionList.escape("a,b,,c") == "a,,b,,,,c")
        var list = QEMUOptionList("drv")
        list.add("s", "x,y")
        list.add("b", true)
        list.add("n", 3)
        #expect(list.text == "drv,s=x,,y,b=on,n=3")
    }

    // MARK: - Interfaces

    @Test(arguments: [
        ("virtio", "virtio-net-pci"), ("e1000", "e1000"), ("e1000e", "e1000e"), ("rtl8139", "rtl8139"),
        ("ne2k_pci", "ne2k_pci"), ("pcnet", "pcnet"),
    ])
    func nicModels(model: String, device: String) throws {
        let spec = try Fixture.spec(
            devices: "{\"interfaces\": [{\"name\": \"n\", \"bridge\": {}, \"model\": \"\(model)\"}]}",
            spec: "\"networks\": [{\"name\": \"n\", \"pod\": {}}]")
        #expect(try Fixture.arguments(spec).values(of: "-device").first?.hasPrefix("\(device),netdev=hostua-n,id=ua-n,") == true)
    }

    @Test func userAndTapBackends() throws {
        let spec = try Fixture.spec(
            devices: "{\"interfaces\": [{\"name\": \"a\", \"masquerade\": {}}, {\"name\": \"b\", \"bridge\": {}}]}",
            spec: "\"networks\": [{\"name\": \"a\", \"pod\": {}}, {\"name\": \"b\", \"multus\": {\"networkName\": \"x\"}}]")
        let adjust: (inout LaunchContext) -> Void = { $0.interfaces["b"] = .tap(device: "tap-b") }
        #expect(try Fixture.arguments(spec, accelerator: .tcg, adjust).values(of: "-netdev")
            == ["user,id=hostua-a", "tap,id=hostua-b,ifname=tap-b,script=no,downscript=no"])
        #expect(try Fixture.arguments(spec, accelerator: .kvm, adjust).values(of: "-netdev")
            == ["user,id=hostua-a", "tap,id=hostua-b,ifname=tap-b,script=no,downscript=no,vhost=on"])
    }

    @Test func macAddressGivenOrGenerated() throws {
        let spec = try Fixture.spec(
            devices: """
                {"interfaces": [{"name": "default", "masquerade": {}}, {"name": "b", "bridge": {}, "macAddress": "DE-AD-BE-EF-00-0A"}]}
                """,
            spec: "\"networks\": [{\"name\": \"default\", \"pod\": {}}, {\"name\": \"b\", \"multus\": {\"networkName\": \"x\"}}]")
        let devices = try Fixture.arguments(spec).values(of: "-device")
        #expect(devices[0].contains(",mac=02:9a:e7:d8:c5:c2,"))
        #expect(devices[1].contains(",mac=de:ad:be:ef:00:0a,"))
    }

    @Test func generatedMACRule() {
        // FNV-1a-64("0b6f3c52-8f0e-4d7a-9a51-3c2e7d1f4b90/default") = 0x9ae7d8c5c23db31f.
        #expect(QEMUCommand.generatedMACAddress(vmiUID: Fixture.uid, interfaceName: "default") == "02:9a:e7:d8:c5:c2")
        let a = QEMUCommand.generatedMACAddress(vmiUID: Fixture.uid, interfaceName: "a")
        #expect(a == QEMUCommand.generatedMACAddress(vmiUID: Fixture.uid, interfaceName: "a"))
        #expect(a != QEMUCommand.generatedMACAddress(vmiUID: Fixture.uid, interfaceName: "b"))
        #expect(a != QEMUCommand.generatedMACAddress(vmiUID: "11111111-2222-4333-8444-555555555555", interfaceName: "a"))
        for uid in ["", Fixture.uid, "x"] {
            let mac = QEMUCommand.generatedMACAddress(vmiUID: uid, interfaceName: "eth")
            #expect(mac.hasPrefix("02:") && mac.count == 17)
        }
    }

    @Test func bootOrderOrNoOptionROM() throws {
        let spec = try Fixture.spec(
            devices: "{\"interfaces\": [{\"name\": \"a\", \"bridge\": {}, \"bootOrder\": 2}, {\"name\": \"b\", \"bridge\": {}}]}",
            spec: "\"networks\": [{\"name\": \"a\", \"pod\": {}}, {\"name\": \"b\", \"multus\": {\"networkName\": \"x\"}}]")
        let devices = try Fixture.arguments(spec).values(of: "-device")
        #expect(devices[0].hasSuffix(",bootindex=2"))
        #expect(devices[1].hasSuffix(",romfile="))
    }

    @Test func absentInterfacesAreLeftOut() throws {
        let spec = try Fixture.spec(
            devices: "{\"interfaces\": [{\"name\": \"a\", \"bridge\": {}, \"state\": \"absent\"}]}",
            spec: "\"networks\": [{\"name\": \"a\", \"pod\": {}}]")
        #expect(try Fixture.arguments(spec).values(of: "-netdev").isEmpty)
    }

    // MARK: - Console, graphics, other devices

    @Test func serialConsoleByDefault() throws {
        let args = try Fixture.arguments(try Fixture.spec())
        #expect(args.values(of: "-chardev").last == "socket,id=charserial0,path=/pod/serial.sock,server=on,wait=off")
        #expect(args.values(of: "-device").contains("isa-serial,chardev=charserial0,id=serial0"))
    }

    @Test func serialConsoleLog() throws {
        let spec = try Fixture.spec()
        #expect(try Fixture.arguments(spec) { $0.serialLogPath = "/pod/serial.log" }.values(of: "-chardev").last
            == "socket,id=charserial0,path=/pod/serial.sock,server=on,wait=off,logfile=/pod/serial.log,logappend=on")
        let quiet = try Fixture.spec(devices: "{\"logSerialConsole\": false}")
        #expect(try Fixture.arguments(quiet) { $0.serialLogPath = "/pod/serial.log" }.values(of: "-chardev").last
            == "socket,id=charserial0,path=/pod/serial.sock,server=on,wait=off")
    }

    @Test func noSerialConsole() throws {
        let spec = try Fixture.spec(devices: "{\"autoattachSerialConsole\": false}")
        let args = try Fixture.arguments(spec) { $0.serialSocketPath = nil }
        #expect(args.values(of: "-chardev").count == 1)
        #expect(!args.values(of: "-device").contains { $0.hasPrefix("isa-serial") })
    }

    @Test func graphicsByDefault() throws {
        let args = try Fixture.arguments(try Fixture.spec())
        #expect(args.values(of: "-device").contains("VGA,id=video0"))
        #expect(args.value(of: "-vnc") == "unix:/pod/vnc.sock")
        #expect(args.value(of: "-vga") == nil)
    }

    @Test func noGraphics() throws {
        let spec = try Fixture.spec(devices: "{\"autoattachGraphicsDevice\": false}")
        let args = try Fixture.arguments(spec) { $0.vncSocketPath = nil }
        #expect(args.value(of: "-vga") == "none")
        #expect(args.value(of: "-display") == "none")
        #expect(args.value(of: "-vnc") == nil)
        #expect(!args.values(of: "-device").contains { $0.hasPrefix("VGA") })
    }

    @Test func videoType() throws {
        let spec = try Fixture.spec(devices: "{\"video\": {\"type\": \"bochs\"}}")
        #expect(try Fixture.arguments(spec).values(of: "-device").contains("bochs-display,id=video0"))
    }

    @Test func memBalloon() throws {
        #expect(try Fixture.arguments(try Fixture.spec()).values(of: "-device").contains("virtio-balloon-pci,id=balloon0,free-page-reporting=on"))
        let off = try Fixture.spec(devices: "{\"autoattachMemBalloon\": false}")
        #expect(!(try Fixture.arguments(off).values(of: "-device").contains { $0.hasPrefix("virtio-balloon") }))
    }

    @Test func rngInputsAndWatchdog() throws {
        let spec = try Fixture.spec(devices: """
            {"rng": {}, "inputs": [{"name": "kbd", "type": "keyboard", "bus": "virtio"}, {"name": "tab", "type": "tablet"}],
             "watchdog": {"name": "wd", "i6300esb": {}}}
            """)
        let args = try Fixture.arguments(spec)
        #expect(args.value(of: "-object") == "rng-random,id=objrng0,filename=/dev/urandom")
        let devices = args.values(of: "-device")
        for expected in ["virtio-rng-pci,rng=objrng0,id=rng0", "virtio-keyboard-pci,id=ua-kbd", "qemu-xhci,id=usb",
                         "usb-tablet,id=ua-tab,bus=usb.0", "i6300esb,id=ua-wd"] {
            #expect(devices.contains(expected), "missing -device \(expected)")
        }
        #expect(args.value(of: "-action") == "watchdog=reset")
    }

    @Test func sameInputsSameCommand() throws {
        let vmi = try Golden.vmi("fedora-cloud")
        let context = try Golden.context("fedora-cloud")
        #expect(try QEMUCommand.build(vmi: vmi, context: context) == (try QEMUCommand.build(vmi: vmi, context: context)))
    }
}

extension QEMUCommandTests {
    @Test func aCDROMWithoutAVolumeIsAnEmptyDrive() throws {
        let spec = try Fixture.spec(devices: """
            {"disks": [{"name": "root"}, {"name": "empty", "cdrom": {"bus": "sata"}}, {"name": "empty-scsi", "cdrom": {"bus": "scsi"}}]}
            """, spec: #""volumes": [{"name": "root", "containerDisk": {"image": "/images/root.qcow2"}}]"#)
        let args = try Fixture.arguments(spec) { context in
            context.disks["empty"] = nil
            context.disks["empty-scsi"] = nil
        }
        let devices = args.values(of: "-device")
        #expect(devices.contains("ide-cd,bus=ide.0,id=ua-empty"))
        #expect(devices.contains("scsi-cd,bus=scsi0.0,channel=0,scsi-id=0,lun=0,id=ua-empty-scsi"))
        #expect(args.values(of: "-blockdev").allSatisfy { !$0.contains("empty") })
    }

    @Test func aDiskWhoseVolumeWasNotPreparedIsStillAnError() throws {
        let spec = try Fixture.spec(devices: "{\"disks\": [{\"name\": \"iso\", \"cdrom\": {}}]}",
                                    spec: "\"volumes\": [{\"name\": \"iso\", \"containerDisk\": {\"image\": \"/images/iso.qcow2\"}}]")
        let error = Fixture.error(spec) { $0.disks["iso"] = nil }
        #expect(error?.message.contains("prepared image for disk \"iso\"") == true)
    }
}
