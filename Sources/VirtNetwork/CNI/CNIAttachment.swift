import VirtAPI

/// Which container interface a CNI operation is about: the values of CNI_CONTAINERID, CNI_NETNS,
/// CNI_IFNAME and CNI_ARGS, and the runtime arguments offered to plugins that declare the capability.
/// ADD, CHECK and DEL of one attachment must be given the same value.
public struct CNIAttachment: Sendable, Equatable, Hashable, Codable {
    /// One `KEY=VALUE` of CNI_ARGS.
    public struct Argument: Sendable, Equatable, Hashable, Codable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// CNI_CONTAINERID: a letter or digit, then letters, digits, `_`, `.` or `-` (the sandbox id).
    public var containerID: String
    /// CNI_NETNS: the path of the container's network namespace.
    public var netnsPath: String
    /// CNI_IFNAME: the interface name inside the container (`eth0`, `net1`).
    public var ifName: String
    /// CNI_ARGS, in order (`IgnoreUnknown=true;K8S_POD_NAMESPACE=…`).
    public var args: [Argument]
    /// Runtime arguments by capability name (`mac`, `ips`, `portMappings`, `bandwidth`, …): each goes
    /// under `runtimeConfig` to the plugins whose `capabilities` include it.
    public var capabilityArgs: [String: JSONValue]

    public init(containerID: String, netnsPath: String, ifName: String, args: [Argument] = [], capabilityArgs: [String: JSONValue] = [:]) {
        self.containerID = containerID
        self.netnsPath = netnsPath
        self.ifName = ifName
        self.args = args
        self.capabilityArgs = capabilityArgs
    }

    /// The arguments Multus passes every plugin: `IgnoreUnknown=true` then the pod's namespace, name,
    /// sandbox id and uid.
    public static func kubernetesArgs(podNamespace: String, podName: String, sandboxID: String, podUID: String) -> [Argument] {
        [
            Argument("IgnoreUnknown", "true"), Argument("K8S_POD_NAMESPACE", podNamespace), Argument("K8S_POD_NAME", podName),
            Argument("K8S_POD_INFRA_CONTAINER_ID", sandboxID), Argument("K8S_POD_UID", podUID),
        ]
    }

    /// CNI_ARGS as the environment carries it.
    public var argsString: String { args.map { "\($0.key)=\($0.value)" }.joined(separator: ";") }

    /// Refuses values a plugin would misread: a container id outside the spec's pattern, an interface
    /// name Linux refuses, a CNI_ARGS key or value containing `;` or `=` (keys).
    public func validate() throws(CNIError) {
        guard CNINetworkConfigList.isIdentifier(containerID) else {
            throw .invalidAttachment(field: "containerID", reason: "\"\(containerID)\" must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
        }
        guard netnsPath.hasPrefix("/") else {
            throw .invalidAttachment(field: "netnsPath", reason: "\"\(netnsPath)\" must be an absolute path")
        }
        let badName = ifName.isEmpty || ifName.utf8.count > 15 || ifName == "." || ifName == ".."
            || ifName.unicodeScalars.contains { $0 == "/" || $0 == ":" || $0.properties.isWhitespace || $0.value < 0x20 }
        guard !badName else {
            throw .invalidAttachment(field: "ifName", reason: "\"\(ifName)\" must be 1 to 15 characters without '/', ':' or spaces, and not '.' or '..'")
        }
        for (index, argument) in args.enumerated() {
            guard !argument.key.isEmpty, !argument.key.contains(where: { $0 == "=" || $0 == ";" }) else {
                throw .invalidAttachment(field: "args[\(index)].key", reason: "\"\(argument.key)\" must be non-empty, without '=' or ';'")
            }
            guard !argument.value.contains(";") else {
                throw .invalidAttachment(field: "args[\(index)].value", reason: "\"\(argument.value)\" must not contain ';'")
            }
        }
    }
}
