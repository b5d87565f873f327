import VirtAPI

extension PodSandboxSpec {
    /// The PATH given to the process when its environment has none.
    public static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The cgroup used when `cgroupsPath` is `nil`.
    public var effectiveCgroupsPath: String { cgroupsPath ?? "/swiftvirt/\(id)" }

    /// The OCI runtime spec (`config.json`) for this sandbox in `bundle`, on a host laid out as `host`.
    ///
    /// - root: `rootfs` in the bundle (`bundle.rootfsPath`), read-only, empty but for mount points and `host`'s symlinks;
    /// - mounts: `/proc`, `/dev` (tmpfs; runc adds null, zero, full, random, urandom, tty, ptmx),
    ///   `/dev/pts`, `/dev/shm`, `/sys` (read-only), `/tmp` (tmpfs), the host's `/usr`, `/etc` and
    ///   non-symlink `/bin`, `/sbin`, `/lib*` read-only, the state directory read-write at
    ///   `stateMountPath`, then `mounts`;
    /// - devices: those of `devices` present in `host`, allowed in the devices cgroup after a deny-all;
    /// - namespaces: new pid, ipc, uts, mount, and network (new, `networkNamespace`'s path, or none: the host's);
    /// - the process: uid 0 with only `capabilities`, `noNewPrivileges`, no terminal.
    public func ociConfiguration(bundle: OCIBundle, host: HostLayout) -> JSONValue {
        let capabilityList = JSONValue.array(capabilities.map { .string($0) })
        var environment = process.environment
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) { environment.insert(Self.defaultPath, at: 0) }

        var processValue: JSONValue = [
            "terminal": false,
            "user": ["uid": 0, "gid": 0],
            "args": .array(process.arguments.map { .string($0) }),
            "env": .array(environment.map { .string($0) }),
            "cwd": .string(process.workingDirectory),
            "capabilities": [
                "bounding": capabilityList,
                "effective": capabilityList,
                "permitted": capabilityList,
                "ambient": capabilityList,
            ],
            "noNewPrivileges": true,
        ]
        if let openFilesLimit {
            processValue["rlimits"] = [["type": "RLIMIT_NOFILE", "hard": .int(openFilesLimit), "soft": .int(openFilesLimit)]]
        }

        let sharedDevices = host.devices.filter { devices.contains($0.path) }
        var deviceRules: [JSONValue] = [["allow": false, "access": "rwm"]]
        for (major, minor) in Self.standardDevices {
            var rule: JSONValue = ["allow": true, "type": "c", "major": .int(major), "access": "rwm"]
            if let minor { rule["minor"] = .int(minor) }
            deviceRules.append(rule)
        }
        for device in sharedDevices {
            deviceRules.append(["allow": true, "type": .string(device.kind.rawValue), "major": .int(device.major), "minor": .int(device.minor), "access": "rwm"])
        }

        var resourcesValue: JSONValue = ["devices": .array(deviceRules)]
        if let memory = resources.memoryLimitBytes {
            resourcesValue["memory"] = ["limit": .int(memory)]
        }
        var cpu: [String: JSONValue] = [:]
        if let limit = resources.cpuLimitMillicores {
            // The kernel's minimum quota is 1 ms.
            cpu["quota"] = .int(max(1000, limit * resources.cpuPeriodMicroseconds / 1000))
            cpu["period"] = .int(resources.cpuPeriodMicroseconds)
        }
        if let request = resources.cpuRequestMillicores {
            cpu["shares"] = .int(max(2, request * 1024 / 1000))
        }
        if !cpu.isEmpty { resourcesValue["cpu"] = .object(cpu) }
        if let pids = resources.pidsLimit { resourcesValue["pids"] = ["limit": .int(pids)] }

        var namespaces: [JSONValue] = [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]]
        switch networkNamespace {
        case .new: break
        case .path(let path): namespaces[1] = ["type": "network", "path": .string(path)]
        case .host: namespaces.remove(at: 1)
        }

        let linux: JSONValue = [
            "namespaces": .array(namespaces),
            "devices": .array(sharedDevices.map { device in
                ["path": .string(device.path), "type": .string(device.kind.rawValue), "major": .int(device.major),
                 "minor": .int(device.minor), "fileMode": .int(device.fileMode), "uid": 0, "gid": 0]
            }),
            "resources": resourcesValue,
            "cgroupsPath": .string(effectiveCgroupsPath),
            "maskedPaths": .array(Self.maskedPaths.map { .string($0) }),
            "readonlyPaths": .array(Self.readonlyPaths.map { .string($0) }),
        ]

        return [
            "ociVersion": "1.0.2",
            "process": processValue,
            "root": ["path": "rootfs", "readonly": true],
            "hostname": .string(hostname),
            "mounts": .array(mountList(bundle: bundle, host: host)),
            "linux": linux,
            "annotations": .object(annotations.mapValues { .string($0) }),
        ]
    }

    private func mountList(bundle: OCIBundle, host: HostLayout) -> [JSONValue] {
        var list: [JSONValue] = [
            ["destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]],
            ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ["destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
            ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
            ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
            ["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=65536k"]],
        ]
        for entry in host.entries where entry.kind == .directory {
            list.append(Self.bind(entry.path, to: entry.path, readOnly: true))
        }
        list.append(Self.bind(bundle.statePath, to: Self.stateMountPath, readOnly: false))
        for mount in mounts {
            list.append(Self.bind(mount.source, to: mount.destination, readOnly: mount.readOnly))
        }
        return list
    }

    private static func bind(_ source: String, to destination: String, readOnly: Bool) -> JSONValue {
        ["destination": .string(destination), "type": "bind", "source": .string(source),
         "options": ["rbind", readOnly ? "ro" : "rw", "nosuid", "nodev"]]
    }

    /// Character devices every sandbox may use (`nil` minor: all minors): null, zero, full, random,
    /// urandom, tty, ptmx and the pts slaves.
    static let standardDevices: [(Int64, Int64?)] = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 2), (136, nil)]

    /// Kernel files hidden from the sandbox, as container runtimes hide them by default.
    static let maskedPaths = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                              "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
}
