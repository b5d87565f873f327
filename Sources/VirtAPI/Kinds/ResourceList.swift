/// Kubernetes `ResourceList`: resource name (`cpu`, `memory`, `storage`, `devices.kubevirt.io/kvm`) to quantity.
public typealias ResourceList = [String: Quantity]

/// Compute resources of a container or a VMI domain (`resources.requests` / `resources.limits`).
public struct ResourceRequirements: Codable, Sendable, Equatable {
    public var requests: ResourceList?
    public var limits: ResourceList?
    /// Dynamic resource claims (Pod containers only); kept opaque.
    public var claims: JSONValue?

    public init(requests: ResourceList? = nil, limits: ResourceList? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

/// A reference to an object in the same namespace by name (`secretRef`, `imagePullSecrets[]`).
public struct LocalObjectReference: Codable, Sendable, Equatable {
    public var name: String?

    public init(name: String? = nil) { self.name = name }
}

/// An object that must be `{}` (KubeVirt's marker types such as `masquerade: {}` or `blank: {}`).
/// Any member inside it is reported as an unknown field.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}

    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: NoKeys.self)
    }

    enum NoKeys: CodingKey {}
}

extension ResourceRequirements: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        requests = try object.optional("requests")
        limits = try object.optional("limits")
        claims = try object.optional("claims")
    }
}

extension LocalObjectReference: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {
        name = try object.optional("name")
    }
}

extension EmptyObject: JSONObjectDecodable {
    public init(reading object: inout JSONObjectReader) throws {}
}
