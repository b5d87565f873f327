import Foundation
import Testing
import VirtAPI
@testable import VirtRuntime

@Suite struct PodSandboxSpecTests {
    let bundle = OCIBundle(path: "/var/lib/swiftvirt/pods/default_vm1")

    func spec(_ configure: (inout PodSandboxSpec) -> Void = { _ in }) -> PodSandboxSpec {
        var spec = PodSandboxSpec(id: "default_vm1", hostname: "vm1",
                                  process: .init(arguments: ["/usr/bin/qemu-system-x86_64", "-nodefaults"], environment: ["A=1"]),
                                  resources: .init(memoryLimitBytes: 268_435_456, cpuLimitMillicores: 500, cpuRequestMillicores: 250))
        configure(&spec)
        return spec
    }

    func mount(_ config: JSONValue, at destination: String) -> JSONValue? {
        config["mounts"]?.arrayValue?.first { $0["destination"]?.stringValue == destination }
    }

    /// The options of the mount at `destination`.
    func options(_ config: JSONValue, at destination: String) -> [String] {
        options(of: mount(config, at: destination))
    }

    func options(of mount: JSONValue?) -> [String] {
        strings(mount?["options"])
    }

    func strings(_ value: JSONValue?) -> [String] {
        value?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    @Test func namespacesAreNewExceptAGivenNetworkNamespace() {
        let config = spec().ociConfiguration(bundle: bundle, host: .mergedUsr)
        let namespaces = config[path: ["linux", "namespaces"]]?.arrayValue ?? []
        #expect(namespaces.compactMap { $0["type"]?.stringValue } == ["pid", "network", "ipc", "uts", "mount"])
        #expect(namespaces.allSatisfy { $0["path"] == nil })

        let joined = spec { $0.networkNamespace = .path("/var/run/netns/cni-1") }.ociConfiguration(bundle: bundle, host: .mergedUsr)
        let network = joined[path: ["linux", "namespaces"]]?.arrayValue?.first { $0["type"] == "network" }
        #expect(network?["path"] == "/var/run/netns/cni-1")

        // The host's network: no network namespace at all, the others still new.
        let host = spec { $0.networkNamespace = .host }.ociConfiguration(bundle: bundle, host: .mergedUsr)
        #expect(host[path: ["linux", "namespaces"]]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["pid", "ipc", "uts", "mount"])
    }

    @Test func rootIsReadOnlyAndHostSystemDirectoriesAreReadOnlyBinds() {
        let config = spec().ociConfiguration(bundle: bundle, host: .mergedUsr)
        #expect(config["root"] == ["path": "rootfs", "readonly": true])
        for path in ["/usr", "/etc"] {
            let entry = mount(config, at: path)
            #expect(entry?["type"] == "bind")
            #expect(entry?["source"]?.stringValue == path)
            #expect(options(of: entry).contains("ro"))
            #expect(options(of: entry).contains("rbind"))
        }
        // Merged /usr: /bin, /sbin, /lib, /lib64 are symlinks in the rootfs, not mounts.
        for path in ["/bin", "/sbin", "/lib", "/lib64", "/lib32"] {
            #expect(mount(config, at: path) == nil)
        }
    }

    @Test func unmergedHostDirectoriesAreBoundToo() {
        let host = HostLayout(entries: [.init(path: "/usr", kind: .directory), .init(path: "/etc", kind: .directory),
                                        .init(path: "/bin", kind: .directory), .init(path: "/lib32", kind: .directory)])
        let config = spec().ociConfiguration(bundle: bundle, host: host)
        let destinations = config["mounts"]?.arrayValue?.compactMap { $0["destination"]?.stringValue } ?? []
        #expect(destinations.contains("/bin"))
        #expect(destinations.contains("/lib32"))
        #expect(options(config, at: "/lib32").contains("ro"))
    }

    @Test func kernelFilesystemsAndTmp() {
        let config = spec().ociConfiguration(bundle: bundle, host: .mergedUsr)
        #expect(mount(config, at: "/proc")?["type"] == "proc")
        #expect(mount(config, at: "/dev")?["type"] == "tmpfs")
        #expect(mount(config, at: "/dev/pts")?["type"] == "devpts")
        #expect(mount(config, at: "/dev/shm")?["type"] == "tmpfs")
        #expect(mount(config, at: "/tmp")?["type"] == "tmpfs")
        #expect(mount(config, at: "/sys")?["type"] == "sysfs")
        #expect(options(config, at: "/sys").contains("ro"))
        // Mount order: a parent before its children.
        let destinations = config["mounts"]?.arrayValue?.compactMap { $0["destination"]?.stringValue } ?? []
        #expect(destinations.firstIndex(of: "/dev")! < destinations.firstIndex(of: "/dev/pts")!)
        #expect(destinations.firstIndex(of: "/dev")! < destinations.firstIndex(of: "/dev/shm")!)
    }

    @Test func stateDirectoryIsReadWriteAndExtraMountsFollowInOrder() {
        let config = spec {
            $0.mounts = [.init(source: "/var/lib/images/disk.qcow2", destination: "/disks/root.qcow2", readOnly: false),
                         .init(source: "/var/lib/images/guest", destination: "/images", readOnly: true)]
        }.ociConfiguration(bundle: bundle, host: .mergedUsr)
        let state = mount(config, at: PodSandboxSpec.stateMountPath)
        #expect(PodSandboxSpec.stateMountPath == "/var/run/swiftvirt/pod")
        #expect(state?["source"]?.stringValue == "/var/lib/swiftvirt/pods/default_vm1/state")
        #expect(options(of: state).contains("rw"))
        #expect(options(config, at: "/disks/root.qcow2").contains("rw"))
        #expect(options(config, at: "/images").contains("ro"))
        let destinations = config["mounts"]?.arrayValue?.compactMap { $0["destination"]?.stringValue } ?? []
        #expect(Array(destinations.suffix(3)) == [PodSandboxSpec.stateMountPath, "/disks/root.qcow2", "/images"])
    }

    @Test func cgroupLimits() {
        let config = spec().ociConfiguration(bundle: bundle, host: .mergedUsr)
        let resources = config[path: ["linux", "resources"]]
        #expect(resources?[path: ["memory", "limit"]] == .int(268_435_456))
        #expect(resources?[path: ["cpu", "quota"]] == .int(50_000))
        #expect(resources?[path: ["cpu", "period"]] == .int(100_000))
        #expect(resources?[path: ["cpu", "shares"]] == .int(256))
        #expect(config[path: ["linux", "cgroupsPath"]] == "/swiftvirt/default_vm1")

        let unlimited = spec { $0.resources = .init(); $0.cgroupsPath = "/agent/x" }.ociConfiguration(bundle: bundle, host: .mergedUsr)
        #expect(unlimited[path: ["linux", "resources", "memory"]] == nil)
        #expect(unlimited[path: ["linux", "resources", "cpu"]] == nil)
        #expect(unlimited[path: ["linux", "cgroupsPath"]] == "/agent/x")

        let tiny = spec { $0.resources = .init(cpuLimitMillicores: 1) }.ociConfiguration(bundle: bundle, host: .mergedUsr)
        #expect(tiny[path: ["linux", "resources", "cpu", "quota"]] == .int(1000))
    }

    @Test func processHasNoNewPrivilegesAndOnlyItsCapabilities() {
        let config = spec().ociConfiguration(bundle: bundle, host: .mergedUsr)
        let process = config["process"]
        #expect(process?["noNewPrivileges"] == true)
        #expect(process?["terminal"] == false)
        #expect(process?["user"] == ["uid": 0, "gid": 0])
        #expect(strings(process?["args"]) == ["/usr/bin/qemu-system-x86_64", "-nodefaults"])
        #expect(strings(process?["env"]) == [PodSandboxSpec.defaultPath, "A=1"])
        #expect(process?["cwd"] == "/")
        for set in ["bounding", "effective", "permitted", "ambient"] {
            #expect(strings(process?[path: ["capabilities", set]]) == ["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_SYS_NICE"])
        }
        #expect(config["hostname"] == "vm1")

        // The open-files limit is inherited unless given.
        #expect(process?["rlimits"] == nil)
        let limited = spec { $0.openFilesLimit = 20000 }.ociConfiguration(bundle: bundle, host: .mergedUsr)
        #expect(limited[path: ["process", "rlimits"]] == [["type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000]])
    }

    @Test func hostDevicesArePassedAndAllowedAfterDenyAll() {
        let config = spec().ociConfiguration(bundle: bundle, host: .mergedUsr)
        let devices = config[path: ["linux", "devices"]]?.arrayValue ?? []
        #expect(devices.compactMap { $0["path"]?.stringValue } == ["/dev/kvm", "/dev/net/tun"])
        #expect(devices.first?["major"] == .int(10))
        #expect(devices.first?["minor"] == .int(232))
        #expect(devices.first?["type"] == "c")

        let rules = config[path: ["linux", "resources", "devices"]]?.arrayValue ?? []
        #expect(rules.first == ["allow": false, "access": "rwm"])
        #expect(rules.contains(["allow": true, "type": "c", "major": 10, "minor": 232, "access": "rwm"]))
        #expect(rules.contains(["allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"]))
        #expect(rules.contains(["allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"]))

        // A host without /dev/kvm: nothing to pass, nothing allowed.
        var host = HostLayout.mergedUsr
        host.devices.removeAll { $0.path == "/dev/kvm" }
        let withoutKVM = spec().ociConfiguration(bundle: bundle, host: host)
        #expect(withoutKVM[path: ["linux", "devices"]]?.arrayValue?.compactMap { $0["path"]?.stringValue } == ["/dev/net/tun"])
        #expect(!(withoutKVM[path: ["linux", "resources", "devices"]]?.arrayValue ?? []).contains { $0["minor"] == .int(232) })

        // A spec that asks for no devices gets none, even when the host has them.
        let none = spec { $0.devices = [] }.ociConfiguration(bundle: bundle, host: .mergedUsr)
        #expect(none[path: ["linux", "devices"]] == .array([]))
    }

    @Test func specFromPod() throws {
        var pod = Pod(metadata: ObjectMeta(name: "virt-launcher-vm1-abcde", namespace: "prod"))
        pod.metadata?.uid = "1234"
        var compute = Container(name: "compute")
        compute.resources = ResourceRequirements(requests: ["cpu": try Quantity("100m"), "memory": try Quantity("300Mi")],
                                                 limits: ["cpu": try Quantity("1"), "memory": try Quantity("320Mi")])
        var sidecar = Container(name: "sidecar")
        sidecar.resources = ResourceRequirements(limits: ["cpu": try Quantity("200m"), "memory": try Quantity("16Mi")])
        pod.spec = PodSpec(containers: [compute, sidecar])

        let spec = try PodSandboxSpec(pod: pod, process: .init(arguments: ["/bin/true"]))
        #expect(spec.id == "prod_virt-launcher-vm1-abcde")
        #expect(spec.hostname == "virt-launcher-vm1-abcde")
        #expect(spec.resources.memoryLimitBytes == 352_321_536)  // 320Mi + 16Mi
        #expect(spec.resources.cpuLimitMillicores == 1200)
        #expect(spec.resources.cpuRequestMillicores == 300)
        #expect(spec.annotations == [PodSandboxSpec.podNameAnnotation: "virt-launcher-vm1-abcde",
                                     PodSandboxSpec.podNamespaceAnnotation: "prod",
                                     PodSandboxSpec.podUIDAnnotation: "1234"])

        // One container without a memory limit leaves the pod unlimited.
        pod.spec?.containers.append(Container(name: "unlimited"))
        #expect(PodSandboxSpec.Resources(pod: pod).memoryLimitBytes == nil)
        // Pod-level resources win.
        pod.spec?.resources = ResourceRequirements(limits: ["memory": try Quantity("1Gi")])
        #expect(PodSandboxSpec.Resources(pod: pod).memoryLimitBytes == 1 << 30)

        #expect(throws: (any Error).self) { try PodSandboxSpec(pod: Pod(), process: .init(arguments: ["/bin/true"])) }
    }

    @Test func hostnameIsCutTo63Bytes() {
        let long = String(repeating: "a", count: 62) + "-b"
        let pod = Pod(metadata: ObjectMeta(name: long, namespace: "default"))
        #expect(PodSandboxSpec.hostname(for: pod) == String(repeating: "a", count: 62))
        var named = pod
        named.spec = PodSpec()
        named.spec?.hostname = "guest"
        #expect(PodSandboxSpec.hostname(for: named) == "guest")
    }

    @Test func bundleOnDisk() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvirt-bundle-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bundle = OCIBundle(path: directory + "/default_vm1")
        let config = spec().ociConfiguration(bundle: bundle, host: .mergedUsr)
        try bundle.create(configuration: config, host: .mergedUsr)
        try bundle.create(configuration: config, host: .mergedUsr)  // idempotent

        #expect(try bundle.readConfiguration() == config)
        let files = FileManager.default
        #expect(try files.destinationOfSymbolicLink(atPath: bundle.rootfsPath + "/bin") == "usr/bin")
        #expect(try files.destinationOfSymbolicLink(atPath: bundle.rootfsPath + "/lib64") == "usr/lib64")
        #expect(try files.contentsOfDirectory(atPath: bundle.rootfsPath).sorted() == ["bin", "lib", "lib64", "sbin"])
        #expect(files.fileExists(atPath: bundle.stdoutPath))
        #expect(files.fileExists(atPath: bundle.stderrPath))

        try "log".write(toFile: bundle.statePath + "/qemu.log", atomically: true, encoding: .utf8)
        try bundle.remove(keepingState: true)
        #expect(!bundle.exists)
        #expect(!files.fileExists(atPath: bundle.rootfsPath))
        #expect(files.fileExists(atPath: bundle.statePath + "/qemu.log"))
        try bundle.remove()
        #expect(!files.fileExists(atPath: bundle.path))
    }

    @Test func probedHostMatchesThisMachine() {
        let host = HostLayout.probe(devices: ["/dev/null", "/nonexistent"])
        #expect(host.entries.first?.path == "/usr")
        #expect(host.entries.first?.kind == .directory)
        #expect(host.devices == [HostLayout.Device(path: "/dev/null", kind: .character, major: 1, minor: 3, fileMode: 0o666)])
        if let bin = host.entries.first(where: { $0.path == "/bin" }), case .symlink(let target) = bin.kind {
            #expect(target.hasSuffix("usr/bin"))
        }
    }
}
