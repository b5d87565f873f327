import Foundation
import VirtAPI
import VirtDisk
import VirtError
import VirtQEMU
import VirtReconcile
import VirtRuntime

extension VirtualMachineHandler {
    /// Socket and log names in a launcher pod's state directory, where QEMU listens and writes.
    enum PodFiles {
        static let qmpSocket = "qmp.sock"
        static let serialSocket = "serial.sock"
        static let serialLog = "serial.log"
        static let vncSocket = "vnc.sock"
    }

    /// Prepares the guest's volumes and networks, starts QEMU in the pod's sandbox and waits for its
    /// monitor. A preparation that fails (an image that cannot be had, a missing Secret) leaves the pod
    /// Pending and is tried again after `retryAfter`; a QEMU that does not start fails the pod and VMI.
    func start(pod: JSONValue, vmi: VirtualMachineInstance, object: JSONValue, key: ObjectKey, id: String, uid: String,
               state: inout VirtualMachineState) async throws -> ReconcileResult {
        try state.move(to: .preparing)
        // The finalizer must be on the pod before QEMU starts, not before its disks are made.
        async let finalized: Void = addFinalizer(pod)
        // A dataVolume volume is its DataVolume's PVC (the claim is checked for the import's marker).
        let launchVMI = Self.withStableIdentity(vmi).resolvingDataVolumes()
        let stateDirectory = runtimes.pods.stateDirectory(of: id)
        let prepared: [PreparedDisk]
        let network: NetworkAttachment
        // How long each step took, for the log line that says QEMU runs.
        let preparing = ContinuousClock.now
        var disksTook = Duration.zero
        var networkTook = Duration.zero
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            let secrets = try await referencedSecrets(vmi: launchVMI, namespace: key.namespace ?? "default")
            let claims = try await referencedClaims(vmi: launchVMI, namespace: key.namespace ?? "default")
            prepared = try await runtimes.volumes.prepare(launchVMI, stateDirectory: stateDirectory, secrets: secrets, claims: claims)
            disksTook = ContinuousClock.now - preparing
            // Last: the attacher leaves nothing behind when it fails, and a later failure's teardown detaches.
            // (Wired while the disks are made, it took as long in all: the two compete for the same cores.)
            network = try await runtimes.networks.attach(launchVMI, sandboxID: id)
            networkTook = ContinuousClock.now - preparing - disksTook
        } catch {
            try? await finalized
            try state.move(to: .idle)
            let failure = StartFailure.preparation(error)
            logger.warning("\(key): \(failure.message)")
            try await reportWaiting(pod: pod, object: object, key: key, uid: uid, failure: failure)
            return .requeue(after: configuration.retryAfter)
        }
        do {
            try await finalized
        } catch {
            // Nothing started: try again (with the controller's back-off) rather than fail the guest.
            try? await runtimes.networks.detach(sandboxID: id)
            try state.move(to: .idle)
            throw error
        }
        do {
            let (command, mounts) = try launchCommand(vmi: launchVMI, uid: uid, stateDirectory: stateDirectory, prepared: prepared, backends: network.backends)
            let typedPod: Pod = try pod.decoded()
            var spec = try PodSandboxSpec(pod: typedPod, process: .init(arguments: [command.executable] + command.arguments, workingDirectory: "/"), mounts: mounts)
            if let path = network.namespacePath { spec.networkNamespace = .path(path) }
            spec.devices += prepared.filter(\.blockDevice).map(\.path)
            if spec.resources.memoryLimitBytes == nil {
                spec.resources.memoryLimitBytes = typedPod.spec?.containers.first?.resources?.requests?["memory"]?.bytes
            }
            try state.move(to: .starting)
            let started = ContinuousClock.now
            try await runtimes.pods.start(spec)
            let monitor = try await runtimes.monitors.connect(socketPath: stateDirectory + "/" + PodFiles.qmpSocket, timeout: .seconds(30))
            registry.update(uid) { $0.session = monitor }
            let status = try await monitor.queryStatus()
            registry.update(uid) { $0.runState = status.status }
            logger.info("\(key): QEMU \(status.status) after \(ContinuousClock.now - started) (\(configuration.accelerator.rawValue)); secrets and disks took \(disksTook), the network \(networkTook)")
            try state.move(to: status.running ? .running : .paused)
        } catch {
            let output = runtimes.pods.errorOutput(of: id)
            try? await stopSandbox(id: id, uid: uid, grace: .zero)
            if !state.phase.isFinal { try state.move(to: .failed) }
            let failure = StartFailure.launch(error, qemuSaid: output)
            state.failure = failure
            logger.error("starting \(key) failed: \(failure.message)")
            try await reportEnded(pod: pod, key: key, uid: uid, state: state, reason: failure.message, failure: failure)
            return .done
        }
        attachMonitor(id: id, uid: uid, key: key)
        try await reportRunning(pod: pod, vmi: vmi, object: object, key: key, state: state, podIPs: network.podIPs,
                                attached: network.interfaces, networkStatus: network.networkStatus)
        return .done
    }

    /// The VMI as it is launched: `firmware.uuid` filled in when the spec has none (the VM controller
    /// sets it on VMIs it creates; a VMI created on its own gets the same name-based UUID), so QEMU's
    /// SMBIOS UUID and cloud-init's instance id agree and survive restarts.
    static func withStableIdentity(_ vmi: VirtualMachineInstance) -> VirtualMachineInstance {
        var vmi = vmi
        if (vmi.spec.domain.firmware?.uuid ?? "").isEmpty {
            var firmware = vmi.spec.domain.firmware ?? Firmware()
            firmware.uuid = FirmwareUUID.forVirtualMachine(named: vmi.metadata?.name ?? "")
            vmi.spec.domain.firmware = firmware
        }
        return vmi
    }

    /// QEMU's command line and the host paths the sandbox must see. Writable disks outside the pod's state
    /// directory (host disks) are bound read-write one file each; base images and kernels read-only.
    func launchCommand(vmi: VirtualMachineInstance, uid: String, stateDirectory: String, prepared: [PreparedDisk],
                       backends: [String: LaunchContext.NetworkBackend]) throws -> (QEMUCommand, [PodSandboxSpec.BindMount]) {
        var disks: [String: LaunchContext.PreparedDisk] = [:]
        var mounts: [String: Bool] = [:]  // host path → read-only
        func bind(_ path: String, readOnly: Bool) {
            guard !(path == stateDirectory || path.hasPrefix(stateDirectory + "/")) else { return }
            mounts[path] = (mounts[path] ?? true) && readOnly
        }
        for disk in prepared {
            disks[disk.volumeName] = LaunchContext.PreparedDisk(path: disk.path, format: disk.format == .raw ? .raw : .qcow2, readonly: disk.readOnly,
                                                                blockDevice: disk.blockDevice)
            if disk.blockDevice {
                // A device node, given to the pod as a device rather than a bind mount.
            } else if disk.readOnly {
                bind((disk.path as NSString).deletingLastPathComponent, readOnly: true)
            } else {
                bind(disk.path, readOnly: false)
            }
            if let backing = disk.backing { bind((backing.path as NSString).deletingLastPathComponent, readOnly: true) }
        }
        var kernel: String?, initrd: String?
        if let boot = vmi.spec.domain.firmware?.kernelBoot, let image = boot.container?.image {
            kernel = boot.container?.kernelPath.map { Self.join(image, $0) }
            initrd = boot.container?.initrdPath.map { Self.join(image, $0) }
            for path in [kernel, initrd].compactMap({ $0 }) { bind((path as NSString).deletingLastPathComponent, readOnly: true) }
        }
        // The machine's identity for QEMU: the firmware UUID (set by withStableIdentity), not the VMI's
        // UID, so the guest sees the same SMBIOS UUID and MACs after every restart of its VM.
        let identity = vmi.spec.domain.firmware?.uuid ?? uid
        var context = LaunchContext(
            accelerator: configuration.accelerator, vmiUID: identity,
            qmpSocketPath: stateDirectory + "/" + PodFiles.qmpSocket, serialSocketPath: stateDirectory + "/" + PodFiles.serialSocket,
            serialLogPath: stateDirectory + "/" + PodFiles.serialLog, vncSocketPath: stateDirectory + "/" + PodFiles.vncSocket,
            disks: disks, kernelPath: kernel, initrdPath: initrd, interfaces: backends)
        // startStrategy: Paused, and a VM started with `start --paused`: QEMU waits with its CPUs stopped.
        context.startPaused = vmi.spec.startStrategy == "Paused"
        let command = try QEMUCommand.build(vmi: vmi, context: context)
        var binds = [PodSandboxSpec.BindMount(source: stateDirectory, destination: stateDirectory, readOnly: false)]
        // A file bound on its own must not be shadowed by a read-only bind of its directory made after it.
        for (path, readOnly) in mounts.sorted(by: { $0.key < $1.key }) {
            binds.append(PodSandboxSpec.BindMount(source: path, destination: path, readOnly: readOnly))
        }
        return (command, binds)
    }

    static func join(_ base: String, _ path: String) -> String {
        path.hasPrefix("/") && !base.hasSuffix("/") && FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: base + path)
            ? path : (base as NSString).appendingPathComponent(path)
    }

    /// The Secrets the VMI's cloud-init volumes name, by name, and the containerDisk pull secrets that
    /// exist (a missing pull secret is no credentials, as for the kubelet).
    func referencedSecrets(vmi: VirtualMachineInstance, namespace: String) async throws -> [String: Secret] {
        var secrets: [String: Secret] = [:]
        for volume in vmi.spec.volumes ?? [] {
            if let name = volume.containerDisk?.imagePullSecret, !name.isEmpty, secrets[name] == nil {
                secrets[name] = try await pullSecret(name, namespace: namespace)
            }
            let sources = [volume.cloudInitNoCloud, volume.cloudInitConfigDrive].compactMap { $0 }
            for source in sources {
                for name in [source.secretRef?.name, source.networkDataSecretRef?.name].compactMap({ $0 }) where secrets[name] == nil {
                    secrets[name] = try await secret(name, namespace: namespace, volume: volume.name)
                }
            }
        }
        return secrets
    }
}

extension VirtualMachineHandler {
    /// The pull secret `name`, or nil when it does not exist.
    func pullSecret(_ name: String, namespace: String) async throws -> Secret? {
        do {
            let object: JSONValue = try await client.get(KubeVirt.secrets.inNamespace(namespace).named(name))
            return try object.decoded()
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }

    func secret(_ name: String, namespace: String, volume: String) async throws -> Secret {
        let object: JSONValue
        do {
            object = try await client.get(KubeVirt.secrets.inNamespace(namespace).named(name))
        } catch {
            guard error.code == .notFound else { throw error }
            throw VirtError(.notFound, "secret \"\(name)\" not found: volume \(volume) names it; create it in namespace \(namespace)", cause: error)
        }
        return try object.decoded()
    }
}

/// Why a guest did not start, in the words and reasons the VMI, its pod and its VM show.
struct StartFailure: Sendable, Equatable {
    /// The pod container's waiting or termination reason (`ErrImagePull`, `CreateContainerConfigError`,
    /// `Error`), which the VMI's `Synchronized` condition repeats.
    var reason: String
    var message: String

    /// Preparing volumes or reading what they name failed; tried again later.
    static func preparation(_ error: any Error) -> StartFailure {
        let virtError = error as? VirtError
        let message = virtError?.message ?? "\(error)"
        if case .neverPull? = virtError?.cause as? ContainerDiskError { return StartFailure(reason: "ErrImageNeverPull", message: message) }
        if virtError?.cause is ContainerDiskError { return StartFailure(reason: "ErrImagePull", message: message) }
        // What failed underneath (a CNI plugin's or runc's own words) belongs in the message too.
        return StartFailure(reason: "CreateContainerConfigError", message: "\(error)")
    }

    /// QEMU could not be started or did not answer on its monitor.
    static func launch(_ error: any Error, qemuSaid output: String) -> StartFailure {
        let message = (error as? VirtError)?.message ?? "\(error)"
        let said = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if said.isEmpty || message.contains(said) { return StartFailure(reason: "Error", message: message) }
        return StartFailure(reason: "Error", message: "\(message); QEMU said: \(said)")
    }
}

