import VirtAPI
import VirtError
import VirtStore

/// KubeVirt's `subresources.kubevirt.io/v1`: start, stop and restart of VirtualMachines, written the way
/// virt-api writes them (a runStrategy change or `status.stateChangeRequests` for the VM controller);
/// pause, unpause and soft reboot of VMIs, carried out by the agent of the VMI's node and answered once
/// they took effect.
struct VirtSubresources: Sendable {
    static let group = "subresources.kubevirt.io"
    static let version = "v1"
    static let vmVerbs = ["start", "stop", "restart"]

    let handler: ResourceHandler
    let streams: (any NodeStreams)?

    /// `true` when the path belongs to this group.
    static func matches(_ segments: [Substring]) -> Bool {
        segments.count >= 2 && segments[0] == "apis" && segments[1] == Substring(group)
    }

    func handle(_ request: APIRequest, segments: [Substring]) async throws -> APIResponse {
        let parts = segments.map(String.init)
        if parts.count == 2, request.method == "GET" {
            return .json(Discovery(registry: handler.registry).group(Self.group, versions: [Self.version]))
        }
        if parts.count == 3, request.method == "GET" {
            return .json(resourceList())
        }
        // apis/subresources.kubevirt.io/v1/namespaces/NS/KIND/NAME/VERB
        guard parts.count == 8, parts[2] == Self.version, parts[3] == "namespaces" else {
            throw VirtError(.notFound, "the server could not find the requested resource")
        }
        let (namespace, resource, name, verb) = (parts[4], parts[5], parts[6], parts[7])
        guard request.method == "PUT" else {
            throw VirtError(.methodNotAllowed, "\(verb) takes PUT")
        }
        switch (resource, verb) {
        case ("virtualmachines", let verb) where Self.vmVerbs.contains(verb):
            try await changeVM(namespace: namespace, name: name, verb: verb, dryRun: request.query["dryRun"] == "All")
            return APIResponse(status: 202, contentType: "text/plain", body: .bytes([]))
        case ("virtualmachineinstances", "pause"), ("virtualmachineinstances", "unpause"), ("virtualmachineinstances", "softreboot"):
            try await requestOnVMI(namespace: namespace, name: name, verb: verb, dryRun: request.query["dryRun"] == "All")
            return APIResponse(status: 200, contentType: "text/plain", body: .bytes([]))
        default:
            throw VirtError(.notFound, "the server could not find the requested resource: \(resource)/\(verb)")
        }
    }

    func resourceList() -> JSONValue {
        var resources: [JSONValue] = []
        for verb in Self.vmVerbs {
            resources.append(["name": .string("virtualmachines/\(verb)"), "singularName": "", "namespaced": true, "kind": "", "verbs": ["update"]])
        }
        for verb in ["pause", "unpause", "softreboot", "console", "vnc"] {
            resources.append(["name": .string("virtualmachineinstances/\(verb)"), "singularName": "", "namespaced": true, "kind": "",
                              "verbs": verb == "console" || verb == "vnc" ? ["get"] : ["update"]])
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string("\(Self.group)/\(Self.version)"), "resources": .array(resources)]
    }

    /// Applies a start/stop/restart to a VM as its runStrategy allows, retrying on conflicts.
    func changeVM(namespace: String, name: String, verb: String, dryRun: Bool) async throws {
        guard let vmType = handler.registry.resource(group: "kubevirt.io", version: "v1", plural: "virtualmachines"),
              let vmiType = handler.registry.resource(group: "kubevirt.io", version: "v1", plural: "virtualmachineinstances")
        else { return }
        let vmTarget = RequestTarget(type: vmType, namespace: namespace, name: name, subresource: nil)
        for _ in 0..<5 {
            let vm = try await handler.fetch(vmTarget, name: name)
            let vmi = try await handler.store.get(StoreKey(resource: vmiType.storeResource, namespace: namespace, name: name))?.object
            let vmiActive = vmi.map { !["Succeeded", "Failed"].contains($0[path: ["status", "phase"]]?.stringValue ?? "") } ?? false
            let strategy = Self.runStrategy(vm)
            var next = vm
            var statusChange = false
            switch (verb, strategy) {
            case ("start", "Halted"):
                setRunStrategy(&next, "Always")
            case ("start", "Manual"), ("start", "RerunOnFailure"):
                if vmiActive { throw VirtError(.conflict, "VM is already running") }
                statusChange = true
                appendRequests(&next, [["action": "Start"]])
            case ("start", _):
                if vmiActive { throw VirtError(.conflict, "VM is already running") }
                throw VirtError(.conflict, "\(strategy) does not support manual start requests")
            case ("stop", "Halted"):
                throw VirtError(.conflict, "VM is not running")
            case ("stop", "Manual"), ("stop", "RerunOnFailure"):
                guard let vmi, vmiActive else { throw VirtError(.conflict, "VM is not running") }
                statusChange = true
                appendRequests(&next, [["action": "Stop", "uid": vmi[path: ["metadata", "uid"]] ?? .null]])
            case ("stop", _):
                setRunStrategy(&next, "Halted")
            case ("restart", "Halted"):
                throw VirtError(.conflict, "Halted does not support manual restart requests")
            case ("restart", _):
                guard let vmi, vmiActive else { throw VirtError(.conflict, "VM is not running") }
                statusChange = true
                appendRequests(&next, [["action": "Stop", "uid": vmi[path: ["metadata", "uid"]] ?? .null], ["action": "Start"]])
            default:
                throw VirtError(.notFound, "unknown action \(verb)")
            }
            do {
                _ = try await handler.update(vmTarget, name: name, proposed: next, subresource: statusChange ? "status" : nil,
                                             fieldValidation: "Ignore", dryRun: dryRun)
                return
            } catch let error as VirtError where error.code == .conflict && error.message.hasPrefix("Operation cannot be fulfilled") {
                continue
            }
        }
        throw VirtError(.conflict, "the VirtualMachine kept changing; try again")
    }

    /// Pause, unpause and soft reboot: checked here against the VMI, carried out by the agent of its node,
    /// which answers once QEMU did it (and the VMI's Paused condition says so).
    func requestOnVMI(namespace: String, name: String, verb: String, dryRun: Bool) async throws {
        guard let vmiType = handler.registry.resource(group: "kubevirt.io", version: "v1", plural: "virtualmachineinstances") else { return }
        let target = RequestTarget(type: vmiType, namespace: namespace, name: name, subresource: nil)
        let vmi = try await handler.fetch(target, name: name)
        guard vmi[path: ["status", "phase"]]?.stringValue == "Running" else {
            throw VirtError(.conflict, "VMI is not running")
        }
        let paused = (vmi[path: ["status", "conditions"]]?.arrayValue ?? [])
            .contains { $0["type"]?.stringValue == "Paused" && $0["status"]?.stringValue == "True" }
        switch verb {
        case "pause" where paused: throw VirtError(.conflict, "VMI is already paused")
        case "unpause" where !paused: throw VirtError(.conflict, "VMI is not paused")
        case "softreboot" where paused: throw VirtError(.conflict, "VMI is paused; unpause it before a soft reboot")
        default: break
        }
        guard let node = vmi[path: ["status", "nodeName"]]?.stringValue, !node.isEmpty else {
            throw VirtError(.conflict, "VMI \(namespace)/\(name) has no node yet")
        }
        guard let streams else {
            throw VirtError(.serviceUnavailable, "\(verb) is carried out by the node agent of \(node), which this server reaches only over HTTPS: start it without --insecure-http")
        }
        if dryRun { return }
        try await streams.carryOut(verb, node: node, namespace: namespace, name: name)
    }

    static func runStrategy(_ vm: JSONValue) -> String {
        if let strategy = vm[path: ["spec", "runStrategy"]]?.stringValue { return strategy }
        if let running = vm[path: ["spec", "running"]]?.boolValue { return running ? "Always" : "Halted" }
        return "Halted"
    }

    func setRunStrategy(_ vm: inout JSONValue, _ strategy: String) {
        if vm[path: ["spec", "running"]] != nil, vm[path: ["spec", "runStrategy"]] == nil {
            vm[path: ["spec", "running"]] = .bool(strategy == "Always")
        } else {
            vm[path: ["spec", "runStrategy"]] = .string(strategy)
        }
    }

    func appendRequests(_ vm: inout JSONValue, _ requests: [JSONValue]) {
        let existing = vm[path: ["status", "stateChangeRequests"]]?.arrayValue ?? []
        if !existing.isEmpty { return }
        vm[path: ["status", "stateChangeRequests"]] = .array(requests)
    }
}
