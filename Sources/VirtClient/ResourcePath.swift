/// Where a Kubernetes resource lives on the REST API: group, version, plural resource name, and optionally a
/// namespace, an object name and a subresource.
///
/// ```swift
/// ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachines", namespace: "default", name: "vm1")
///     .urlPath  // "/apis/kubevirt.io/v1/namespaces/default/virtualmachines/vm1"
/// ResourcePath(group: "", version: "v1", resource: "pods").urlPath  // "/api/v1/pods"
/// ```
public struct ResourcePath: Sendable, Hashable, CustomStringConvertible {
    /// The API group; empty for the core group (`/api/v1`).
    public var group: String
    /// The API version, e.g. `v1`.
    public var version: String
    /// The plural resource name, e.g. `virtualmachines`.
    public var resource: String
    /// The namespace, or `nil` for cluster-scoped resources and lists across all namespaces.
    public var namespace: String?
    /// The object name, or `nil` for collections.
    public var name: String?
    /// A subresource such as `status`, or KubeVirt's `start` under `subresources.kubevirt.io`.
    public var subresource: String?

    /// Creates a path. Empty strings for `namespace`, `name` and `subresource` mean "absent".
    public init(
        group: String,
        version: String,
        resource: String,
        namespace: String? = nil,
        name: String? = nil,
        subresource: String? = nil
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name.flatMap { $0.isEmpty ? nil : $0 }
        self.subresource = subresource.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A path in the core group (`/api/v1/...`).
    public static func core(
        _ resource: String,
        namespace: String? = nil,
        name: String? = nil,
        subresource: String? = nil
    ) -> ResourcePath {
        ResourcePath(group: "", version: "v1", resource: resource, namespace: namespace, name: name, subresource: subresource)
    }

    /// `group/version`, or just `version` for the core group: the value of an object's `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `/api/v1` for the core group, `/apis/GROUP/VERSION` otherwise.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The URL path, each segment percent-encoded.
    public var urlPath: String {
        var path = groupVersionPath
        if let namespace { path += "/namespaces/" + ResourcePath.escapeSegment(namespace) }
        path += "/" + ResourcePath.escapeSegment(resource)
        if let name { path += "/" + ResourcePath.escapeSegment(name) }
        if let subresource { path += "/" + subresource.split(separator: "/").map { ResourcePath.escapeSegment(String($0)) }.joined(separator: "/") }
        return path
    }

    /// The URL path.
    public var description: String { urlPath }

    /// The same path for the collection (no name, no subresource).
    public var collection: ResourcePath {
        ResourcePath(group: group, version: version, resource: resource, namespace: namespace)
    }

    /// The same path naming one object.
    public func named(_ name: String) -> ResourcePath {
        ResourcePath(group: group, version: version, resource: resource, namespace: namespace, name: name, subresource: subresource)
    }

    /// The same path in another namespace (`nil`: cluster-wide).
    public func inNamespace(_ namespace: String?) -> ResourcePath {
        ResourcePath(group: group, version: version, resource: resource, namespace: namespace, name: name, subresource: subresource)
    }

    /// The same object's subresource, e.g. `status`.
    public func subresource(_ subresource: String?) -> ResourcePath {
        ResourcePath(group: group, version: version, resource: resource, namespace: namespace, name: name, subresource: subresource)
    }

    /// Percent-encodes one path segment (RFC 3986 unreserved characters stay as they are).
    static func escapeSegment(_ segment: String) -> String {
        percentEncode(segment, keeping: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "@") })
    }

    /// Percent-encodes a query component the way Go's `url.QueryEscape` does, except that a space is `%20`.
    static func escapeQueryComponent(_ value: String) -> String {
        percentEncode(value, keeping: { _ in false })
    }

    private static func percentEncode(_ value: String, keeping extra: (UInt8) -> Bool) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        let hex: [Character] = Array("0123456789ABCDEF")
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                if extra(byte) {
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    out.append("%")
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                }
            }
        }
        return out
    }

    /// Builds `?a=1&b=2` from ordered pairs (empty when there are none).
    static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { escapeQueryComponent($0.0) + "=" + escapeQueryComponent($0.1) }.joined(separator: "&")
    }
}
