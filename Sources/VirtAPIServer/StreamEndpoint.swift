import VirtAPI
import VirtError
import VirtStore

/// The requests that turn into websockets: a VMI's `console` and `vnc` (`subresources.kubevirt.io`) and a
/// pod's `exec`. `resolve` checks everything an ordinary request would (the object, its phase, the node it
/// runs on, the parameters), so a refused stream is an ordinary `Status` and nothing is opened.
struct StreamEndpoint: Sendable {
    /// Where a resolved stream goes.
    enum Target: Sendable, Equatable {
        /// Raw bytes both ways between the websocket and a guest stream of a launcher pod on a node.
        case guest(GuestStream, node: String, namespace: String, pod: String)
        /// A command run in a pod, answered over the channel protocol (`v5.channel.k8s.io`).
        case exec(ExecRequest)
    }

    /// A pod exec as the client asked for it.
    struct ExecRequest: Sendable, Equatable {
        var node: String
        var namespace: String
        var pod: String
        var command: [String]
        var stdin: Bool
        var stdout: Bool
        var stderr: Bool
    }

    /// The websocket subprotocol KubeVirt's console and VNC speak.
    static let plainProtocol = "plain.kubevirt.io"
    /// The channel protocols exec speaks, preferred first.
    static let execProtocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]

    let handler: ResourceHandler
    let streams: (any NodeStreams)?

    /// `true` for the paths this endpoint serves (any method; only GET upgrades).
    static func matches(_ segments: [Substring]) -> Bool {
        guestPath(segments) != nil || execPath(segments) != nil
    }

    /// `apis/subresources.kubevirt.io/VERSION/namespaces/NS/virtualmachineinstances/NAME/(console|vnc)`.
    static func guestPath(_ segments: [Substring]) -> (namespace: String, name: String, stream: GuestStream)? {
        guard segments.count == 8, segments[0] == "apis", segments[1] == Substring(VirtSubresources.group),
              ["v1", "v1alpha3"].contains(segments[2]), segments[3] == "namespaces", segments[5] == "virtualmachineinstances",
              let stream = GuestStream(rawValue: String(segments[7]))
        else { return nil }
        return (String(segments[4]), String(segments[6]), stream)
    }

    /// `api/v1/namespaces/NS/pods/NAME/exec`.
    static func execPath(_ segments: [Substring]) -> (namespace: String, name: String)? {
        guard segments.count == 7, segments[0] == "api", segments[1] == "v1", segments[2] == "namespaces",
              segments[4] == "pods", segments[6] == "exec"
        else { return nil }
        return (String(segments[3]), String(segments[5]))
    }

    /// The subprotocol to answer with, from the ones the client offered.
    enum Negotiation: Sendable, Equatable {
        /// Upgrade, naming this subprotocol (or none).
        case accept(String?)
        /// None of the offered subprotocols is spoken here.
        case refuse
    }

    static func negotiate(_ target: Target, offered: [String]) -> Negotiation {
        switch target {
        case .guest:
            // virtctl and browsers offer plain.kubevirt.io; a client that offers nothing gets none back.
            if offered.isEmpty { return .accept(nil) }
            return offered.contains(plainProtocol) ? .accept(plainProtocol) : .refuse
        case .exec:
            return execProtocols.first(where: offered.contains).map { .accept($0) } ?? .refuse
        }
    }

    /// Checks the request and finds where its stream is.
    func resolve(path: String, query: [(String, String)]) async throws -> Target {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if let (namespace, name, stream) = Self.guestPath(segments) {
            return try await resolveGuest(namespace: namespace, name: name, stream: stream)
        }
        if let (namespace, name) = Self.execPath(segments) {
            return try await resolveExec(namespace: namespace, name: name, query: query)
        }
        throw VirtError(.notFound, "the server could not find the requested resource")
    }

    func resolveGuest(namespace: String, name: String, stream: GuestStream) async throws -> Target {
        let vmiType = try type("kubevirt.io", "virtualmachineinstances")
        guard let vmi = try await handler.store.get(StoreKey(resource: vmiType.storeResource, namespace: namespace, name: name))?.object else {
            throw handler.notFound(vmiType, name)
        }
        let phase = vmi[path: ["status", "phase"]]?.stringValue ?? "Pending"
        guard phase == "Running" else {
            throw VirtError(.badRequest, "cannot connect to the \(stream.rawValue) of VMI \(namespace)/\(name): its phase is \(phase), not Running; wait for it to run (swiftvirt get vmi \(name) -n \(namespace))")
        }
        switch stream {
        case .console where vmi[path: ["spec", "domain", "devices", "autoattachSerialConsole"]]?.boolValue == false:
            throw VirtError(.badRequest, "VMI \(namespace)/\(name) has no serial console: spec.domain.devices.autoattachSerialConsole is false")
        case .vnc where vmi[path: ["spec", "domain", "devices", "autoattachGraphicsDevice"]]?.boolValue == false:
            throw VirtError(.badRequest, "VMI \(namespace)/\(name) has no graphics device: spec.domain.devices.autoattachGraphicsDevice is false")
        default:
            break
        }
        let uid = vmi[path: ["metadata", "uid"]]?.stringValue ?? ""
        let podType = try type("", "pods")
        let pods = try await handler.store.list(StoreScope(resource: podType.storeResource, namespace: namespace), startAfter: nil, limit: 0) { pod in
            pod[path: ["metadata", "labels", "kubevirt.io/created-by"]]?.stringValue == uid
                && pod[path: ["status", "phase"]]?.stringValue == "Running"
        }
        guard let pod = pods.items.first?.object, let podName = pod[path: ["metadata", "name"]]?.stringValue else {
            throw VirtError(.badRequest, "VMI \(namespace)/\(name) has no running launcher pod yet; try again in a moment")
        }
        let node = try self.node(of: pod, what: "the \(stream.rawValue) of VMI \(namespace)/\(name)")
        return .guest(stream, node: node, namespace: namespace, pod: podName)
    }

    func resolveExec(namespace: String, name: String, query: [(String, String)]) async throws -> Target {
        let podType = try type("", "pods")
        guard let pod = try await handler.store.get(StoreKey(resource: podType.storeResource, namespace: namespace, name: name))?.object else {
            throw handler.notFound(podType, name)
        }
        func flag(_ key: String) -> Bool {
            query.last(where: { $0.0 == key }).map { ["1", "true"].contains($0.1.lowercased()) } ?? false
        }
        let command = query.filter { $0.0 == "command" }.map(\.1)
        guard !command.isEmpty, !command[0].isEmpty else {
            throw VirtError(.badRequest, "exec needs a command: pass it after --, as in `swiftvirt exec \(name) -- qemu-img --version`",
                            causes: [.init(reason: "FieldValueRequired", message: "Required value", field: "command")])
        }
        if flag("tty") {
            throw VirtError(.badRequest, "exec in pod \(namespace)/\(name) runs without a terminal; drop -t/--tty (commands run to completion and their output is returned)")
        }
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        if let container = query.last(where: { $0.0 == "container" })?.1, !container.isEmpty, !containers.contains(container) {
            throw VirtError(.badRequest, "container \(container) is not valid for pod \(name); its containers are: \(containers.joined(separator: ", "))")
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
        guard phase == "Running" else {
            throw VirtError(.badRequest, "cannot exec in pod \(namespace)/\(name): its phase is \(phase), not Running")
        }
        let node = try self.node(of: pod, what: "exec in pod \(namespace)/\(name)")
        return .exec(ExecRequest(node: node, namespace: namespace, pod: name, command: command,
                                 stdin: flag("stdin"), stdout: flag("stdout"), stderr: flag("stderr")))
    }

    /// The node a pod is bound to, whose agent serves its streams.
    func node(of pod: JSONValue, what: String) throws -> String {
        guard streams != nil else {
            throw VirtError(.serviceUnavailable, "\(what) is served by the pod's node agent, which this server reaches only over HTTPS: start it without --insecure-http")
        }
        guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else {
            throw VirtError(.serviceUnavailable, "\(what): the pod is not bound to a node yet")
        }
        return node
    }

    func type(_ group: String, _ plural: String) throws -> ResourceType {
        guard let type = handler.registry.resource(group: group, version: "v1", plural: plural) else {
            throw VirtError.internalError("\(plural) is missing from the registry")
        }
        return type
    }

    /// The answer to a plain (not upgraded) request on a stream path: the same checks, then a hint.
    func plainResponse(_ request: APIRequest) async throws -> APIResponse {
        _ = try await resolve(path: request.path, query: request.query.map { ($0.key, $0.value) })
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true)
        if Self.execPath(segments) != nil {
            throw VirtError(.badRequest, "exec is a websocket: connect with GET, Upgrade: websocket and subprotocol \(Self.execProtocols.joined(separator: " or "))")
        }
        throw VirtError(.badRequest, "this is a websocket: connect with GET, Upgrade: websocket and subprotocol \(Self.plainProtocol) (swiftvirt console / swiftvirt vnc do this)")
    }
}
