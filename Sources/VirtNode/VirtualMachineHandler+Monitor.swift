import VirtAPI
import VirtError
import VirtQEMU
import VirtReconcile

extension VirtualMachineHandler {
    /// Follows the guest's monitor events until the session ends, keeping QEMU's run state and how it
    /// ended in the registry and asking for a pass over the VMI after each change. Connects first when no
    /// session is open (a guest adopted after an agent restart).
    func attachMonitor(id: String, uid: String, key: ObjectKey) {
        let socket = runtimes.pods.stateDirectory(of: id) + "/" + PodFiles.qmpSocket
        _ = registry.startFollower(uid, name: key) { token in
            Task { [weak self] in
                guard let self else { return }
                await self.follow(socket: socket, uid: uid, key: key, token: token)
            }
        }
    }

    func follow(socket: String, uid: String, key: ObjectKey, token: Int) async {
        var monitor = registry.session(uid)
        if monitor == nil {
            do {
                let connected = try await runtimes.monitors.connect(socketPath: socket, timeout: .seconds(10))
                registry.update(uid) { $0.session = connected }
                monitor = connected
            } catch {
                logger.warning("\(key): cannot open QEMU's monitor: \(error.message)")
                registry.followerEnded(uid, token: token)
                await queue.add(key)
                return
            }
        }
        guard let monitor else { return }
        if let status = try? await monitor.queryStatus() {
            registry.update(uid) { $0.runState = status.status }
            if Self.isFatal(runState: status.status) { registry.update(uid) { $0.ending = Self.ending(forRunState: status.status) } }
        }
        await queue.add(key)
        for await event in monitor.events {
            if Task.isCancelled { break }
            switch event.name {
            case "SHUTDOWN":
                let guest = event.data["guest"]?.boolValue ?? false
                registry.update(uid) { entry in
                    if entry.ending == nil || entry.ending == .hostShutdown { entry.ending = guest ? .guestShutdown : .hostShutdown }
                }
            case "GUEST_PANICKED":
                registry.update(uid) { $0.ending = .guestPanicked }
                await queue.add(key)
            case "STOP", "RESUME":
                // The event does not say why: ask for the run state (paused, io-error, internal-error …).
                let status = try? await monitor.queryStatus()
                let runState = status?.status ?? (event.name == "STOP" ? "paused" : "running")
                registry.update(uid) { entry in
                    entry.runState = runState
                    if Self.isFatal(runState: runState) { entry.ending = Self.ending(forRunState: runState) }
                }
                await queue.add(key)
            default:
                break
            }
        }
        registry.followerEnded(uid, token: token)
        monitor.close()
        // Give the runtime a moment to see the process gone before the pod is looked at.
        try? await Task.sleep(for: .milliseconds(200))
        await queue.add(key)
    }

    /// QEMU run states in which the guest cannot go on: the agent ends QEMU and fails the VMI.
    static func isFatal(runState: String) -> Bool {
        runState == "internal-error" || runState == "guest-panicked"
    }

    static func ending(forRunState runState: String) -> VirtualMachineState.Ending {
        runState == "guest-panicked" ? .guestPanicked : .internalError
    }
}
